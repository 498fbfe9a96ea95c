import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { channelNames, getChannel } from '../channels/registry.js';
import type { ChannelSender } from '../channels/types.js';
import {
  assertProductionChannelSettings,
  eventEndpointRules,
  eventRetryPolicy,
  loadConfig,
  resolveEndpoints,
} from '../config/config.js';
import { clientDataConverter, workerDataConverter } from '../crypto/data-converter.js';
import { devPayloadKeyFile, resolvePayloadKeyring } from '../crypto/dev-key.js';
import { createLogger } from '../logging/create-logger.js';
import { createMetricsRegistry, createWorkerMetrics } from '../observability/metrics.js';
import { fetchExposition, startMetricsServerOrWarn } from '../observability/metrics-server.js';
import { tracingFromConfig } from '../observability/tracing.js';
import { temporalTlsFromConfig } from '../tls/transport-security.js';
import { onShutdown } from '../runtime/shutdown.js';
import { createPool, migrateWhenReachable, resolveDatabaseUrl } from '../db/index.js';
import { RecipientStore } from '../recipients/store.js';
import { EventSender } from '../events/sender.js';
import { WebhookEndpointStore } from '../events/store.js';
import { loadTemplateStore } from '../templates/index.js';
import { createChannelWorker, createEventsWorker, createWorkflowWorker, workflowBundle } from './create-workers.js';
import { installTemporalRuntime } from './install-runtime.js';
import { workflowBundleDir } from './workflow-bundle-cache.js';

const USAGE = `Usage: npm run worker -- [--workflows] [--channels email,sms,...] [--events]
  --workflows          run a workflow worker (notification workflows)
  --channels a,b       run activity workers for these channels (known: ${channelNames.join(', ')})
  --events             run the delivery-events worker (webhook endpoints: emission and signed POSTs); a process
                       running workflows serves it too (unless WEBHOOK_EVENTS_ENABLED=false)
  With no flag: a workflow worker, the events worker and workers for WORKER_CHANNELS (default: every channel).`;

/** Worker entry point. Run as many as needed; each serves the task queues chosen by its flags. */
async function main(): Promise<void> {
  const mainStartedAt = performance.now();
  const { values } = parseArgs({
    options: {
      workflows: { type: 'boolean', default: false },
      channels: { type: 'string' },
      events: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, component: 'worker' });
  const { keyring } = resolvePayloadKeyring(config, devPayloadKeyFile(config.NOTIFY_HOME));
  const dataConverter = workerDataConverter(keyring);
  const temporalTls = temporalTlsFromConfig(config);
  const tracing = tracingFromConfig(config, 'worker');
  const workerTracing = tracing.enabled ? tracing : undefined;
  const registry = createMetricsRegistry('worker');
  const metrics = createWorkerMetrics(registry);
  const noFlags = values.workflows !== true && values.channels === undefined && values.events !== true;
  const runEvents = config.WEBHOOK_EVENTS_ENABLED && (values.events === true || values.workflows === true || noFlags);
  const onlyWorkflows = (values.workflows === true || values.events === true) && values.channels === undefined;
  const disabled = new Set(config.DISABLED_CHANNELS ?? []);
  const requested =
    values.channels !== undefined
      ? values.channels
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : onlyWorkflows
        ? []
        : (config.WORKER_CHANNELS ?? channelNames.filter((c) => !disabled.has(c)));
  const unknown = requested.filter((c) => getChannel(c) === undefined);
  if (unknown.length > 0)
    throw new Error(`Unknown channel(s) ${unknown.join(', ')}; known: ${channelNames.join(', ')}`);
  const refused = requested.filter((c) => disabled.has(c));
  if (refused.length > 0) {
    throw new Error(
      `Channel(s) ${refused.join(', ')} are in DISABLED_CHANNELS: run no worker for them (docker compose: ${refused.map((c) => `${c.toUpperCase()}_WORKER_REPLICAS=0`).join(', ')}), or remove them from DISABLED_CHANNELS.`,
    );
  }
  // Like a missing PAYLOAD_KEYS: production does not deliver through the dev sinks or with the published secret.
  assertProductionChannelSettings(config, requested);
  const runWorkflows = values.workflows === true || noFlags;

  // Templates compile before anything connects: a template that does not compile stops the worker, naming file and line.
  const templates =
    requested.length > 0
      ? await loadTemplateStore({ dir: config.TEMPLATES_DIR, defaultLocale: config.TEMPLATES_DEFAULT_LOCALE })
      : undefined;
  if (templates !== undefined)
    logger.info({ templates: templates.list().map((t) => `${t.name}@${t.version}`) }, 'templates compiled');
  const sdkMetrics =
    config.TEMPORAL_SDK_METRICS_PORT !== 0 ? `${config.METRICS_HOST}:${config.TEMPORAL_SDK_METRICS_PORT}` : undefined;
  const sdkMetricsOn = installTemporalRuntime(logger, 'WARN', { prometheusBindAddress: sdkMetrics });
  const { temporalAddress } = resolveEndpoints(config);
  const bundleOptions = {
    tracing: workerTracing !== undefined,
    dir: workflowBundleDir(config),
    onBundle: (b: { source: string; path?: string; ms: number; storeError?: string }) =>
      logger.info(
        {
          source: b.source,
          path: b.path,
          ms: Math.round(b.ms),
          ...(b.storeError !== undefined ? { storeError: b.storeError } : {}),
        },
        b.source === 'cache' ? 'workflow bundle read from cache' : 'workflow bundle built',
      ),
  };
  // Start-up is on the critical path of every restart (deliveries stall until the worker polls again): the bundle is
  // read (or built) and the database migrated while the connection to Temporal is being made.
  if (runWorkflows) void workflowBundle(bundleOptions).catch(() => undefined);
  // Channel workers resolve recipients and check suppressions in PostgreSQL (pool per process, created here only).
  const pool =
    requested.length > 0 || runEvents
      ? createPool(resolveDatabaseUrl(config), { max: config.DATABASE_POOL_MAX, logger })
      : undefined;
  const [connection] = await Promise.all([
    NativeConnection.connect({ address: temporalAddress, tls: temporalTls }),
    pool !== undefined ? migrateWhenReachable(pool, logger) : undefined,
  ]);
  const connectedAt = performance.now();
  const recipients = pool !== undefined ? new RecipientStore(pool) : undefined;
  const preferenceDefaults = {
    optInCategories: config.PREFERENCE_OPT_IN_CATEGORIES,
    urgentCategories: config.URGENT_CATEGORIES,
  };
  // Every worker is created at once: each `Worker.create` waits on the server (namespace check) and, for the workflow
  // worker, on evaluating the bundle; one after another they would add up.
  const workflowWorker = runWorkflows
    ? createWorkflowWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
        maxConcurrentWorkflowTaskExecutions: config.WORKFLOW_WORKER_CONCURRENCY,
        maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
        shutdownGraceTimeMs: config.WORKER_SHUTDOWN_GRACE_MS,
        dataConverter,
        // The digest join activity signal-with-starts digest workflows through this client (same connection).
        client: new Client({
          connection,
          namespace: config.TEMPORAL_NAMESPACE,
          dataConverter: clientDataConverter(keyring),
        }),
        tracing: workerTracing,
        bundleDir: bundleOptions.dir,
        onBundle: bundleOptions.onBundle,
      })
    : undefined;
  const channelWorkers = requested.flatMap((name) => {
    const channel = getChannel(name);
    const runtime = config.channels[name];
    if (channel === undefined || runtime === undefined) return [];
    return [
      createChannelWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
        channel,
        runtime,
        logger: logger.child({ channel: name }),
        shutdownGraceTimeMs: config.WORKER_SHUTDOWN_GRACE_MS,
        dataConverter,
        onOutcome: metrics.onOutcome,
        onDecision: metrics.onDecision,
        recipients,
        preferenceDefaults,
        templates,
        onRender: metrics.onRender,
        tracing: tracing.enabled,
      }).then((created) => ({ ...created, name })),
    ];
  });
  let eventClientConnection: Connection | undefined;
  let eventSender: EventSender | undefined;
  const eventsWorker = (async (): Promise<Worker | undefined> => {
    if (!runEvents || pool === undefined) return undefined;
    eventClientConnection = await Connection.connect({ address: temporalAddress, tls: temporalTls });
    eventSender = new EventSender(eventEndpointRules(config));
    return createEventsWorker({
      connection,
      client: new Client({
        connection: eventClientConnection,
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter: clientDataConverter(keyring),
      }),
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
      store: new WebhookEndpointStore(pool, keyring),
      sender: eventSender,
      retry: eventRetryPolicy(config),
      logger: logger.child({ component: 'events' }),
      concurrency: config.WEBHOOK_EVENTS_CONCURRENCY,
      shutdownGraceTimeMs: config.WORKER_SHUTDOWN_GRACE_MS,
      dataConverter,
      bundleDir: bundleOptions.dir,
    });
  })();
  const [created, channelResults, events] = await Promise.all([
    workflowWorker,
    Promise.all(channelWorkers),
    eventsWorker,
  ]);
  const workers: Worker[] = [
    ...(created !== undefined ? [created] : []),
    ...channelResults.map((c) => c.worker),
    ...(events !== undefined ? [events] : []),
  ];
  const senders: ChannelSender<unknown, unknown>[] = channelResults.map((c) => c.sender);
  for (const { name, sender } of channelResults) {
    const circuits = sender.circuits?.bind(sender);
    if (circuits !== undefined) metrics.watchCircuits(name, circuits);
  }
  const readyAt = performance.now();
  // performance.now() counts from process start: the first figure is node + module loading (+ tsx).
  logger.info(
    {
      workflows: runWorkflows,
      channels: requested,
      events: runEvents,
      startupMs: {
        modules: Math.round(mainStartedAt),
        connect: Math.round(connectedAt - mainStartedAt),
        createWorkers: Math.round(readyAt - connectedAt),
        total: Math.round(readyAt),
      },
    },
    'workers running',
  );
  const running = Promise.all(workers.map((w) => w.run()));
  // One scrape target: notify's own series plus the Temporal SDK's (re-served from its endpoint).
  const extra =
    sdkMetricsOn && sdkMetrics !== undefined ? () => fetchExposition(`http://${sdkMetrics}/metrics`) : undefined;
  const metricsServer =
    config.WORKER_METRICS_PORT !== 0
      ? await startMetricsServerOrWarn(
          { host: config.METRICS_HOST, port: config.WORKER_METRICS_PORT, registry, extra },
          logger,
          'WORKER_METRICS_PORT',
        )
      : undefined;
  onShutdown(logger, async () => {
    for (const w of workers) w.shutdown();
    await running;
    await Promise.all(senders.map((s) => s.close()));
    eventSender?.close();
    await eventClientConnection?.close();
    await pool?.end();
    await metricsServer?.close();
    await connection.close();
    await tracing.shutdown();
  });
  await running;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
