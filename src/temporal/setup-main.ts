/**
 * `npm run temporal-setup`: one-shot set-up of a Temporal cluster for notify (namespace, retention, search attributes)
 * through the operator API, from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_RETENTION_HOURS and the TLS
 * settings. Run by docker-compose's `temporal-setup` job and `npm run infra -- start --topology cluster`; idempotent.
 */
import { loadConfig, resolveEndpoints } from '../config/config.js';
import { temporalTlsFromConfig } from '../tls/transport-security.js';
import { ensureNamespace } from './namespace-setup.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const { temporalAddress } = resolveEndpoints(config);
  const log = (line: string) => console.log(`[temporal-setup] ${line}`);
  log(`waiting for Temporal at ${temporalAddress}`);
  const result = await ensureNamespace({
    address: temporalAddress,
    namespace: config.TEMPORAL_NAMESPACE,
    retentionHours: config.TEMPORAL_RETENTION_HOURS,
    tls: temporalTlsFromConfig(config),
    log,
  });
  log(
    `namespace ${config.TEMPORAL_NAMESPACE} ready (${result.registered ? 'registered now' : 'already registered'}; search attributes added: ${result.addedSearchAttributes.join(', ') || 'none'})`,
  );
}

main().catch((err: unknown) => {
  console.error(`[temporal-setup] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
