import { proxyActivities } from '@temporalio/workflow';
import type { createMinimalActivities } from './activities.js';

/**
 * The reference of the end-to-end figure: the smallest workflow with notify's topology — one activity on a second
 * task queue (notify runs deliveries on per-channel queues), default data converter, no search attributes, no memo,
 * no queries or signals. notify ÷ this shows what notify's own workflow shape costs on the same server.
 */
export async function minimalWorkflow(activityTaskQueue: string, input: string): Promise<string> {
  const { deliver } = proxyActivities<ReturnType<typeof createMinimalActivities>>({
    taskQueue: activityTaskQueue,
    startToCloseTimeout: '30 seconds',
  });
  return deliver(input);
}
