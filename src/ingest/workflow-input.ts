import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { AppConfig } from '../config/config.js';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import type { IngestOptions } from './ingest-consumer.js';
import type { ChannelRetryPolicy, NotificationRequest, NotificationWorkflowInput } from '../shared/notification.js';
import { TEMPLATE_CONTENT_KEY } from '../shared/notification.js';

/**
 * Builds the workflow input from a validated envelope and the configuration in force when ingest starts it.
 * Retry policies are fixed here (not read by the workflow) so that workflow replays stay deterministic.
 */
export function buildWorkflowInput(
  envelope: NotificationEnvelope,
  config: Pick<
    AppConfig,
    'channels' | 'TEMPORAL_TASK_QUEUE_PREFIX' | 'NOTIFY_AWAIT_RETRY_MS' | 'WEBHOOK_EVENTS_ENABLED'
  >,
  record: { withoutEvents?: boolean } = {},
): NotificationWorkflowInput {
  const retryPolicies: Record<string, ChannelRetryPolicy> = {};
  for (const delivery of envelope.request.deliveries) {
    const channel = config.channels[delivery.channel];
    if (channel !== undefined) retryPolicies[delivery.channel] = channel.retry;
  }
  return {
    id: envelope.id,
    clientId: envelope.clientId,
    request: withTemplateContent(envelope.request),
    acceptedAt: envelope.acceptedAt,
    taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
    retryPolicies,
    awaitRetryMs: config.NOTIFY_AWAIT_RETRY_MS,
    // No enabled endpoint at acceptance: no events (an endpoint gets those of notifications accepted after it).
    ...(config.WEBHOOK_EVENTS_ENABLED && record.withoutEvents !== true ? { events: true } : {}),
  };
}

/**
 * A templated request as the workflow runs it: each delivery's content becomes the template reference
 * (`{ "$template": { name, data } }`), which the delivery activity renders for its channel (rendering never runs in
 * workflow code, and the workflow passes each delivery's content to its activity as it is). `data` moves into the
 * deliveries instead of being kept twice; `template` stays, naming it in the workflow input.
 */
export function withTemplateContent(request: NotificationRequest): NotificationRequest {
  const { template, data, ...rest } = request;
  if (template === undefined) return request;
  return {
    ...rest,
    template,
    deliveries: request.deliveries.map((d) => ({
      ...d,
      content: { [TEMPLATE_CONTENT_KEY]: { name: template, data: data ?? {} } },
    })),
  };
}

/** gRPC INVALID_ARGUMENT from Temporal: the start can never succeed (e.g. payload over the size limit). */
export function isPermanentStartError(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(grpc) && Number(grpc.code) === 3;
}

/**
 * IngestConsumer options derived from the configuration — the one place that maps INGEST_* / KAFKA_* settings onto
 * the consumer, shared by `main.ts` and the tests that run ingest in-process.
 */
export function ingestOptionsFromConfig(
  config: AppConfig,
  deps: Pick<IngestOptions, 'kafka' | 'starter' | 'logger'> & Partial<IngestOptions>,
): IngestOptions {
  return {
    topic: config.KAFKA_TOPIC,
    dlqTopic: config.KAFKA_DLQ_TOPIC,
    groupId: config.KAFKA_CONSUMER_GROUP,
    buildInput: (envelope, record) => buildWorkflowInput(envelope, config, record),
    concurrency: config.INGEST_CONCURRENCY,
    partitionsConcurrently: config.KAFKA_PARTITIONS,
    maxRecordBytes: config.INGEST_MAX_RECORD_BYTES,
    startTimeoutMs: config.TEMPORAL_START_TIMEOUT_MS,
    backoffMaxMs: config.INGEST_BACKOFF_MAX_MS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    isPermanentStartError,
    ...deps,
  };
}
