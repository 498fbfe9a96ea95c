import { fileURLToPath } from 'node:url';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities/create-activities.js';
import { createEventActivities } from '../activities/event-activities.js';
import type { EventActivityDeps } from '../activities/event-activities.js';
import { createDigestActivities } from '../activities/digest-activities.js';
import type { ActivityDeps } from '../activities/create-activities.js';
import type { ChannelRuntimeConfig } from '../config/config.js';
import type { ChannelDefinition, ChannelSender } from '../channels/types.js';
import {
  activityTracingInterceptors,
  OTEL_WORKFLOW_INTERCEPTORS_MODULE,
  workflowTracingSinks,
} from '../observability/temporal.js';
import type { WorkerTracing } from '../observability/temporal.js';
import { FAILURE_CONVERTER_PATH } from '../crypto/data-converter.js';
import { channelTaskQueue, workflowTaskQueue } from '../shared/notification.js';
import { EVENT_DELIVERY_WORKFLOW_TYPE, eventTaskQueue } from '../shared/events.js';
import { loadOrBuildBundle, lockFileInput } from './workflow-bundle-cache.js';
import type { CachedBundle } from './workflow-bundle-cache.js';

/** Path of the workflow module the workflow worker bundles. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

const bundlePromises = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

function buildBundle(tracing: boolean): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    // Failure messages go into encrypted attributes inside workflow code too (see src/crypto/data-converter.ts).
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules: tracing ? [OTEL_WORKFLOW_INTERCEPTORS_MODULE] : [],
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => console.warn(m),
      error: (m) => console.error(m),
    },
  });
}

/**
 * Bundles the workflow code once per process (several workflow workers in one process share it). With `tracing`, the
 * OpenTelemetry workflow interceptors are bundled too (a separate bundle, built only when asked for).
 *
 * With `dir`, the bundle is also cached on disk under a content hash of the workflow sources (every file reachable
 * from the workflows index and the failure converter), the interceptor modules and the lock file: a restarted worker
 * reads it instead of running webpack again, and any change to those inputs builds a new one. `onBundle` learns where
 * it came from.
 */
export function workflowBundle(
  options: {
    tracing?: boolean;
    dir?: string;
    onBundle?: (info: Omit<CachedBundle, 'bundle'> & { ms: number }) => void;
  } = {},
): Promise<WorkflowBundleWithSourceMap> {
  const tracing = options.tracing === true;
  const memoKey = `${tracing}:${options.dir ?? ''}`;
  let bundle = bundlePromises.get(memoKey);
  if (bundle === undefined) {
    const dir = options.dir;
    if (dir === undefined) {
      bundle = buildBundle(tracing);
    } else {
      const started = performance.now();
      const inputs = {
        entries: [WORKFLOWS_PATH, FAILURE_CONVERTER_PATH],
        extra: [tracing ? OTEL_WORKFLOW_INTERCEPTORS_MODULE : '', lockFileInput()],
      };
      bundle = loadOrBuildBundle(inputs, dir, () => buildBundle(tracing)).then(({ bundle: b, ...info }) => {
        options.onBundle?.({ ...info, ms: performance.now() - started });
        return b;
      });
    }
    bundlePromises.set(memoKey, bundle);
  }
  return bundle;
}

/** Options of the workflow worker. */
export interface WorkflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueuePrefix: string;
  maxConcurrentWorkflowTaskExecutions: number;
  maxCachedWorkflows: number;
  shutdownGraceTimeMs: number;
  /** Payload encryption (`workerDataConverter` from src/crypto); must match the clients' codec. */
  dataConverter?: DataConverter;
  /** OpenTelemetry: continue traces from workflow start headers and export workflow spans (off when absent). */
  tracing?: WorkerTracing;
  /** Cache directory of built workflow bundles (`workflowBundleDir(config)`); without it the bundle is built in memory. */
  bundleDir?: string;
  /** Told whether the bundle came from the cache or was built, and how long that took. */
  onBundle?: (info: Omit<CachedBundle, 'bundle'> & { ms: number }) => void;
  /**
   * Temporal client (with the clients' data converter) for the digest join activity, which signal-with-starts digest
   * workflows. Without it this worker runs no activities, and digest notifications wait for a worker that has one.
   */
  client?: Client;
}

/**
 * A worker that runs notification and digest workflows. Deliveries run on the channel task queues; the only
 * activity here is the digest join (signal-with-start), when a `client` is given.
 */
export async function createWorkflowWorker(options: WorkflowWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: workflowTaskQueue(options.taskQueuePrefix),
    workflowBundle: await workflowBundle({
      tracing: options.tracing !== undefined,
      dir: options.bundleDir,
      onBundle: options.onBundle,
    }),
    ...(options.tracing !== undefined ? { sinks: workflowTracingSinks(options.tracing) } : {}),
    ...(options.client !== undefined ? { activities: createDigestActivities({ client: options.client }) } : {}),
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: options.maxCachedWorkflows,
    shutdownGraceTime: options.shutdownGraceTimeMs,
    dataConverter: options.dataConverter,
  });
}

/** Options of a worker serving one channel's task queue. */
export interface ChannelWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueuePrefix: string;
  channel: ChannelDefinition;
  runtime: ChannelRuntimeConfig;
  logger: Logger;
  shutdownGraceTimeMs: number;
  /** Payload encryption (`workerDataConverter` from src/crypto); must match the clients' codec. */
  dataConverter?: DataConverter;
  onOutcome?: ActivityDeps['onOutcome'];
  onDecision?: ActivityDeps['onDecision'];
  /** Recipients / suppressions store and the operator's preference defaults (see `ActivityDeps`). */
  recipients?: ActivityDeps['recipients'];
  preferenceDefaults?: ActivityDeps['preferenceDefaults'];
  /** Compiled templates (one store per process), for deliveries that name a template. */
  templates?: ActivityDeps['templates'];
  onRender?: ActivityDeps['onRender'];
  /** OpenTelemetry: run each activity in a span continuing the workflow's trace (off when false/absent). */
  tracing?: boolean;
  /** Overrides the sender built from the channel definition (tests wrap the real sender to observe it). */
  sender?: ChannelSender<unknown, unknown>;
}

/**
 * A worker for one channel: its own task queue, slot count (`<CHANNEL>_CONCURRENCY`) and provider rate limit
 * (`<CHANNEL>_RATE_LIMIT_PER_SECOND`, enforced by the server across all workers of the queue). On shutdown, in-flight
 * sends get `shutdownGraceTimeMs` to finish before they are cancelled.
 */
export async function createChannelWorker(
  options: ChannelWorkerOptions,
): Promise<{ worker: Worker; sender: ChannelSender<unknown, unknown> }> {
  const sender = options.sender ?? options.channel.createSender(options.runtime.settings, { logger: options.logger });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: channelTaskQueue(options.taskQueuePrefix, options.channel.name),
    activities: createActivities({
      senders: new Map([[options.channel.name, sender]]),
      logger: options.logger,
      onOutcome: options.onOutcome,
      onDecision: options.onDecision,
      recipients: options.recipients,
      preferenceDefaults: options.preferenceDefaults,
      templates: options.templates,
      onRender: options.onRender,
    }),
    maxConcurrentActivityTaskExecutions: options.runtime.concurrency,
    ...(options.tracing === true ? { interceptors: { activity: activityTracingInterceptors() } } : {}),
    maxTaskQueueActivitiesPerSecond: options.runtime.rateLimitPerSecond,
    shutdownGraceTime: options.shutdownGraceTimeMs,
    dataConverter: options.dataConverter,
  });
  return { worker, sender };
}

/** Options of the worker for delivery events (emission and delivery to webhook endpoints). */
export interface EventsWorkerOptions {
  connection: NativeConnection;
  /** Starts the delivery workflows (one per event and endpoint). */
  client: Client;
  namespace: string;
  taskQueuePrefix: string;
  store: EventActivityDeps['store'];
  sender: EventActivityDeps['sender'];
  retry: EventActivityDeps['retry'];
  logger: Logger;
  /** Concurrent activities (WEBHOOK_EVENTS_CONCURRENCY). */
  concurrency: number;
  shutdownGraceTimeMs: number;
  dataConverter?: DataConverter;
  bundleDir?: string;
}

/**
 * The worker of the `<prefix>-events` task queue: the `emitEvents` and `deliverEvent` activities and the
 * `eventDeliveryWorkflow`s (same bundle as the notification workflows). Its own queue, so a slow or unreachable
 * receiver never takes slots from notification deliveries.
 */
export async function createEventsWorker(options: EventsWorkerOptions): Promise<Worker> {
  const taskQueue = eventTaskQueue(options.taskQueuePrefix);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    workflowBundle: await workflowBundle({ dir: options.bundleDir }),
    activities: createEventActivities({
      store: options.store,
      sender: options.sender,
      retry: options.retry,
      taskQueuePrefix: options.taskQueuePrefix,
      logger: options.logger,
      startDelivery: async (workflowId, input) => {
        try {
          await options.client.workflow.start(EVENT_DELIVERY_WORKFLOW_TYPE, {
            workflowId,
            taskQueue,
            args: [input],
            // The pair (event, endpoint) is delivered once: a second start, even after completion, is refused.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
          });
          return 'started';
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
          throw err;
        }
      },
    }),
    maxConcurrentActivityTaskExecutions: options.concurrency,
    shutdownGraceTime: options.shutdownGraceTimeMs,
    dataConverter: options.dataConverter,
  });
}
