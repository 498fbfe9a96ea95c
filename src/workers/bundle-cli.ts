import { loadConfig } from '../config/config.js';
import { workflowBundle } from './create-workers.js';
import { workflowBundleDir } from './workflow-bundle-cache.js';

/**
 * `npm run bundle:workflows`: builds the workflow bundles (plain and with the OpenTelemetry interceptors) into the
 * bundle cache, so that workers start without running webpack. The Docker image runs it at build time; locally the
 * first workflow worker start does the same.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const dir = workflowBundleDir(config);
  for (const tracing of [false, true]) {
    await workflowBundle({
      tracing,
      dir,
      onBundle: (b) =>
        console.log(
          `workflow bundle${tracing ? ' (tracing)' : ''}: ${b.source === 'cache' ? 'already cached' : 'built'} ${b.path} in ${(b.ms / 1000).toFixed(1)} s${b.storeError !== undefined ? ` — NOT stored: ${b.storeError}` : ''}`,
        ),
    });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
