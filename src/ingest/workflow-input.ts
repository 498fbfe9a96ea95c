import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { AppConfig } from '../config/config.js';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import type { ChannelRetryPolicy, NotificationWorkflowInput } from '../shared/notification.js';

/**
 * Builds the workflow input from a validated envelope and the configuration in force when ingest starts it.
 * Retry policies are fixed here (not read by the workflow) so that workflow replays stay deterministic.
 */
export function buildWorkflowInput(
  envelope: NotificationEnvelope,
  config: Pick<AppConfig, 'channels' | 'TEMPORAL_TASK_QUEUE_PREFIX' | 'NOTIFY_AWAIT_RETRY_MS'>,
): NotificationWorkflowInput {
  const retryPolicies: Record<string, ChannelRetryPolicy> = {};
  for (const delivery of envelope.request.deliveries) {
    const channel = config.channels[delivery.channel];
    if (channel !== undefined) retryPolicies[delivery.channel] = channel.retry;
  }
  return {
    id: envelope.id,
    clientId: envelope.clientId,
    request: envelope.request,
    acceptedAt: envelope.acceptedAt,
    taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
    retryPolicies,
    awaitRetryMs: config.NOTIFY_AWAIT_RETRY_MS,
  };
}

/** gRPC INVALID_ARGUMENT from Temporal: the start can never succeed (e.g. payload over the size limit). */
export function isPermanentStartError(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(grpc) && Number(grpc.code) === 3;
}
