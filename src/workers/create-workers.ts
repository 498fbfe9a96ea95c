import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities/create-activities.js';
import type { ActivityDeps } from '../activities/create-activities.js';
import type { ChannelRuntimeConfig } from '../config/config.js';
import type { ChannelDefinition, ChannelSender } from '../channels/types.js';
import { channelTaskQueue, workflowTaskQueue } from '../shared/notification.js';

/** Path of the workflow module the workflow worker bundles. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process (several workflow workers in one process share it). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundlePromise ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (m) => console.warn(m), error: (m) => console.error(m) } });
  return bundlePromise;
}

/** Options of the workflow worker. */
export interface WorkflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueuePrefix: string;
  maxConcurrentWorkflowTaskExecutions: number;
  maxCachedWorkflows: number;
  shutdownGraceTimeMs: number;
}

/** A worker that runs notification workflows (no activities: deliveries run on the channel task queues). */
export async function createWorkflowWorker(options: WorkflowWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: workflowTaskQueue(options.taskQueuePrefix),
    workflowBundle: await workflowBundle(),
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: options.maxCachedWorkflows,
    shutdownGraceTime: options.shutdownGraceTimeMs,
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
  onOutcome?: ActivityDeps['onOutcome'];
  /** Overrides the sender built from the channel definition (tests wrap the real sender to observe it). */
  sender?: ChannelSender<unknown, unknown>;
}

/**
 * A worker for one channel: its own task queue, slot count (`<CHANNEL>_CONCURRENCY`) and provider rate limit
 * (`<CHANNEL>_RATE_LIMIT_PER_SECOND`, enforced by the server across all workers of the queue). On shutdown, in-flight
 * sends get `shutdownGraceTimeMs` to finish before they are cancelled.
 */
export async function createChannelWorker(options: ChannelWorkerOptions): Promise<{ worker: Worker; sender: ChannelSender<unknown, unknown> }> {
  const sender =
    options.sender ?? (options.channel.createSender(options.runtime.settings, { logger: options.logger }));
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: channelTaskQueue(options.taskQueuePrefix, options.channel.name),
    activities: createActivities({ senders: new Map([[options.channel.name, sender]]), logger: options.logger, onOutcome: options.onOutcome }),
    maxConcurrentActivityTaskExecutions: options.runtime.concurrency,
    maxTaskQueueActivitiesPerSecond: options.runtime.rateLimitPerSecond,
    shutdownGraceTime: options.shutdownGraceTimeMs,
  });
  return { worker, sender };
}
