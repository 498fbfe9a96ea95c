#!/usr/bin/env bash
# API fuzzing with schemathesis (optional tooling, not part of `npm test`).
#
# Installs schemathesis into a virtualenv under .notify/venv (once), starts the gateway (`npm run gateway`) on a spare
# HTTP port against the shared dev infrastructure (Kafka 127.0.0.1:9092, Temporal 127.0.0.1:7233; start it with
# `npm run infra -- start` first), fuzzes every operation of the served /openapi.json with all checks, then stops the
# gateway. Accepted notifications go to a throw-away topic (schemathesis.notifications), not the real one.
# Authentication stays on, as in production: the gateway gets a fresh API key (all scopes) that schemathesis sends, so
# its auth checks (requests without or with a wrong key must get 401) test the real behaviour. Rate limiting is off.
#
# Usage: scripts/schemathesis.sh [extra schemathesis run options, e.g. --max-examples 50]
# Env:   SCHEMATHESIS_VERSION (default 4.32.5), SCHEMATHESIS_PORT (default: a free port), SCHEMATHESIS_REPORT_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.notify/venv"
VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
REPORT_DIR="${SCHEMATHESIS_REPORT_DIR:-$ROOT/.notify/schemathesis}"
cd "$ROOT"

if ! command -v python3 >/dev/null; then
  echo "python3 is required (apt-get install -y python3 python3-venv)" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$VERSION"; then
  echo "[schemathesis] installing schemathesis==$VERSION into $VENV"
  python3 -m venv "$VENV" || { echo "python3 -m venv failed: install python3-venv (apt-get install -y python3-venv)" >&2; exit 2; }
  "$VENV/bin/pip" install --quiet --upgrade "schemathesis==$VERSION"
fi

PORT="${SCHEMATHESIS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')}"
LOG="$REPORT_DIR/gateway.log"
mkdir -p "$REPORT_DIR"

# A throw-away API key for this run: "<key> <API_KEYS entry>".
read -r API_KEY API_KEY_ENTRY < <(cd "$ROOT" && node --import tsx -e "import('./src/auth/api-keys.ts').then((m) => { const k = m.generateApiKey(); console.log(k, m.formatApiKeyEntry('schemathesis', ['send', 'read', 'admin'], k)); })")

echo "[schemathesis] starting the gateway on 127.0.0.1:$PORT (log: $LOG)"
HTTP_PORT="$PORT" HTTP_HOST=127.0.0.1 LOG_LEVEL=warn \
  KAFKA_TOPIC=schemathesis.notifications KAFKA_DLQ_TOPIC=schemathesis.notifications.dlq KAFKA_PARTITIONS=1 \
  API_KEYS="$API_KEY_ENTRY" RATE_LIMIT_MAX=0 \
  node --import tsx src/api/main.ts >"$LOG" 2>&1 &
GATEWAY_PID=$!
cleanup() {
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  wait "$GATEWAY_PID" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
    echo "[schemathesis] the gateway exited during start-up:" >&2
    tail -20 "$LOG" >&2
    exit 1
  fi
  sleep 0.5
done

echo "[schemathesis] fuzzing http://127.0.0.1:$PORT/openapi.json"
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $API_KEY" \
  --workers 2 \
  --report junit --report-dir "$REPORT_DIR" \
  "$@"
