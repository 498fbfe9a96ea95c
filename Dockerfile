# syntax=docker/dockerfile:1
#
# One image for every notify service (gateway, ingest, workflow worker, channel workers, dev sinks); docker-compose.yml
# picks the entry point with `command`, e.g. `command: ["src/workers/main.ts", "--channels", "email"]`.
# TypeScript runs through tsx (a runtime dependency), so there is no compile step; the only build step is the Temporal
# workflow bundle (below).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (tsx is one). Install scripts are skipped: esbuild and @swc/core load their native
# binaries from the platform packages npm installs as optional dependencies, and protobufjs's script only prints.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    NOTIFY_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# Templates as code (TEMPLATES_DIR defaults to templates/, relative to /app): compiled at gateway and worker start.
COPY templates ./templates
# Workflow bundles built once here (webpack runs at image build, not at every worker start): workers read them from
# WORKFLOW_BUNDLE_DIR, keyed by a content hash of the workflow sources and the lock file, so a restarted worker polls
# within seconds. The directory stays read-only for the runtime user; a mismatching hash would only rebuild in memory.
ENV WORKFLOW_BUNDLE_DIR=/app/build/workflow-bundles
RUN node --import tsx src/workers/bundle-cli.ts
# The stock `node` user (uid 1000): nothing in /app needs to be writable; tsx caches compiled files under /tmp.
USER node
# The gateway listens on 3000 (HTTP_PORT); other services expose nothing.
EXPOSE 3000
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["--max-semi-space-size=32", "src/api/main.ts"]
