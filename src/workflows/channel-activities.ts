import type { ActivityOptions } from '@temporalio/workflow';
import { FAILURE_TYPES } from '../shared/failure-types.js';
import type { ChannelRetryPolicy } from '../shared/notification.js';
import { channelTaskQueue } from '../shared/notification.js';

/**
 * Activity options of one channel's `deliver` activity: its task queue and the channel's retry policy (attempt and
 * total timeouts, backoff, attempts; permanent failures never retried). One definition for the notification workflow
 * and the digest workflow, so a digest's send is retried exactly like any other send on that channel.
 */
export function channelActivityOptions(
  taskQueuePrefix: string,
  channel: string,
  policy: ChannelRetryPolicy,
): ActivityOptions {
  return {
    taskQueue: channelTaskQueue(taskQueuePrefix, channel),
    startToCloseTimeout: policy.attemptTimeoutMs,
    scheduleToCloseTimeout: policy.totalTimeoutMs,
    heartbeatTimeout: Math.min(policy.attemptTimeoutMs, 15_000),
    retry: {
      initialInterval: policy.initialIntervalMs,
      backoffCoefficient: policy.backoffCoefficient,
      maximumInterval: policy.maximumIntervalMs,
      maximumAttempts: policy.maximumAttempts,
      nonRetryableErrorTypes: [FAILURE_TYPES.permanent],
    },
  };
}
