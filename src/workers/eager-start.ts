import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import { clientDataConverter, workerDataConverter } from '../crypto/data-converter.js';
import type { PayloadKeyring } from '../crypto/keyring.js';
import type { TemporalTls } from '../tls/transport-security.js';
import { createWorkflowWorker } from './create-workers.js';
import { installTemporalRuntime } from './install-runtime.js';
import { workflowBundleDir } from './workflow-bundle-cache.js';

/** A workflow worker hosted by a starting process, and the client that starts workflows eagerly through it. */
export interface EagerStartWorker {
  /** A client on the worker's NativeConnection: only such a client can request eager workflow start. */
  client: Client;
  /** Stops polling (in-flight workflow tasks finish), then closes the connection. */
  stop(): Promise<void>;
}

/**
 * Eager workflow start (INGEST_EAGER_START): a notification workflow worker in this process and a client sharing its
 * NativeConnection. A start with `requestEagerStart` then gets the first workflow task back in the start response
 * and runs it here, instead of the server dispatching it through the task queue to a polling worker. The worker also
 * polls the workflow task queue like any other workflow worker.
 */
export async function startEagerStartWorker(options: {
  config: AppConfig;
  logger: Logger;
  keyring: PayloadKeyring;
  address: string;
  tls?: TemporalTls;
  /** Route the SDK's logs into `logger` (installs the process's Temporal runtime; default true). */
  installRuntime?: boolean;
}): Promise<EagerStartWorker> {
  const { config, logger, keyring } = options;
  if (options.installRuntime !== false) installTemporalRuntime(logger, 'WARN');
  const connection = await NativeConnection.connect({ address: options.address, tls: options.tls });
  const worker = await createWorkflowWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
    maxConcurrentWorkflowTaskExecutions: config.WORKFLOW_WORKER_CONCURRENCY,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    shutdownGraceTimeMs: config.WORKER_SHUTDOWN_GRACE_MS,
    dataConverter: workerDataConverter(keyring),
    bundleDir: workflowBundleDir(config),
    onBundle: (b) => logger.info({ source: b.source, ms: Math.round(b.ms) }, 'eager-start worker: workflow bundle'),
  });
  const running = worker.run();
  running.catch((err: unknown) => logger.error({ err }, 'eager-start workflow worker stopped'));
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: clientDataConverter(keyring),
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
  return {
    client,
    stop: async () => {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}
