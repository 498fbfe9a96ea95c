import { fileURLToPath } from 'node:url';
import { formatApiKeyEntry, SCOPES } from '../../src/auth/api-keys.js';
import { devApiKeyFile, ensureDevApiKey } from '../../src/auth/dev-key.js';
import { childEnvironment, loadConfig } from '../../src/config/config.js';
import { devPayloadKeyFile, ensureDevPayloadKey } from '../../src/crypto/dev-key.js';
import { ensureInfra } from '../infra/index.js';
import { ensureCluster, parseTopology } from '../infra/cluster/index.js';
import { sinkChannelEnv } from '../sinks/index.js';
import { startComponent, stopComponents } from './supervisor.js';
import type { ManagedProcess } from './supervisor.js';

const entry = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * `npm start`: the embedded default. Installs and starts Kafka and the Temporal dev server if needed, then the dev
 * sinks, the gateway, an ingest consumer and a worker for the workflows and every channel, each as its own process.
 * Ctrl-C / SIGTERM stops them all (and the infrastructure it started).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const { topology, rest } = parseTopology(process.argv.slice(2));
  if (rest.length > 0)
    throw new Error(`unknown argument(s) ${rest.join(' ')}; usage: npm start [-- --topology embedded|cluster]`);
  const log = (line: string) => console.log(`\u001b[1mnotify\u001b[0m   ${line}`);
  let infra: {
    kafkaBrokers: string[];
    temporalAddress: string;
    databaseUrl: string;
    temporalUiUrl: string;
    temporalWorkflowsUrl: string;
    stop(): Promise<void>;
  };
  if (topology === 'cluster') {
    log(
      'starting the cluster topology (3 Kafka brokers + PostgreSQL + 2 Temporal servers + dev sinks + gateway + ingest + workers)',
    );
    const cluster = await ensureCluster(config, { log, uiCodecEndpoint: `http://127.0.0.1:${config.HTTP_PORT}/codec` });
    // Same application, only the endpoints differ; notify's own database shares the cluster's PostgreSQL server.
    const databaseUrl = config.DATABASE_URL ?? cluster.databaseUrl;
    const ui = (cluster.temporalUiUrl ?? config.TEMPORAL_UI_URL).replace(/\/+$/, '');
    infra = {
      ...cluster,
      databaseUrl,
      temporalUiUrl: ui,
      temporalWorkflowsUrl: `${ui}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows`,
    };
  } else {
    log(
      'starting the embedded default (Kafka + Temporal dev server + PostgreSQL + dev sinks + gateway + ingest + workers)',
    );
    infra = await ensureInfra(config, { log });
  }
  const sinksUrl = `http://${config.SINKS_HOST}:${config.SINKS_HTTP_PORT}`;
  const env = childEnvironment(
    {
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      TEMPORAL_ADDRESS: infra.temporalAddress,
      DATABASE_URL: infra.databaseUrl,
    },
    {
      TEMPORAL_UI_URL: infra.temporalUiUrl,
      // On the cluster a produce waits out a broker failover (session timeout + leader election) instead of a 503.
      ...(topology === 'cluster' ? { KAFKA_PRODUCE_TIMEOUT_MS: '15000' } : {}),
      ...sinkChannelEnv({ httpUrl: sinksUrl, smtpHost: config.SINKS_HOST, smtpPort: config.SINKS_SMTP_PORT }),
    },
  );

  // Development security defaults: an API key (kept in .notify/dev-api-key, printed below) unless API_KEYS or
  // AUTH_DISABLED is set, and the payload key file created once here before the children read it.
  const devApiKey =
    config.API_KEYS === undefined && !config.AUTH_DISABLED
      ? ensureDevApiKey(devApiKeyFile(config.NOTIFY_HOME))
      : undefined;
  if (devApiKey !== undefined) env.API_KEYS = formatApiKeyEntry('dev', SCOPES, devApiKey);
  if (config.PAYLOAD_KEYS === undefined && config.NOTIFY_ENV !== 'production')
    ensureDevPayloadKey(devPayloadKeyFile(config.NOTIFY_HOME));

  const processes: ManagedProcess[] = [];
  const specs: Array<[string, string, string[]]> = [
    ['sinks', '../sinks/main.ts', []],
    ['gateway', '../../src/api/main.ts', []],
    ['ingest', '../../src/ingest/main.ts', []],
    ['worker', '../../src/workers/main.ts', []],
  ];
  specs.forEach(([name, path, args], i) => processes.push(startComponent(name, entry(path), args, env, i)));

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    await stopComponents(processes, config.WORKER_SHUTDOWN_GRACE_MS + 5_000);
    await infra.stop();
    process.exit(code);
  };
  for (const p of processes) {
    void p.exited.then((code) => {
      if (!stopping) {
        log(`${p.name} exited with code ${String(code)}; stopping everything`);
        void stop(1);
      }
    });
  }
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const api = `http://${config.HTTP_HOST}:${config.HTTP_PORT}`;
  await waitForHttp(`${api}/readyz`, 120_000);
  log('');
  log(`API            ${api}   (docs: ${api}/docs, OpenAPI: ${api}/openapi.json)`);
  log(`Temporal UI    ${infra.temporalWorkflowsUrl}`);
  log(`Dev sinks      ${sinksUrl}   (received messages; JSON at ${sinksUrl}/messages)`);
  log(`Kafka          ${infra.kafkaBrokers.join(',')}   Temporal ${infra.temporalAddress}`);
  log('');
  if (devApiKey !== undefined)
    log(
      `API key        ${devApiKey}   (development key with every scope, kept in ${devApiKeyFile(config.NOTIFY_HOME)})`,
    );
  else if (config.AUTH_DISABLED)
    log('API key        none: AUTH_DISABLED=true, the API is open to anyone who can reach it');
  else log('API key        one of your API_KEYS');
  const authHeader =
    devApiKey !== undefined
      ? ` -H 'authorization: Bearer ${devApiKey}'`
      : config.AUTH_DISABLED
        ? ''
        : ` -H "authorization: Bearer $NOTIFY_API_KEY"`;
  log(`Try: curl -s -X POST ${api}/v1/notifications -H 'content-type: application/json'${authHeader} \\`);
  log(
    `       -d '{"deliveries":[{"channel":"email","to":"ada@example.com","content":{"subject":"Hello","text":"Hi Ada"}}]}'`,
  );
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`${url} did not become ready within ${timeoutMs / 1000} s; see the logs above`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().catch((err: unknown) => {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
