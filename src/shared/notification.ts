/**
 * Pure types and constants shared by the gateway, ingest, workflows and activities.
 *
 * This module must stay free of runtime dependencies (no zod, no Node APIs): workflow code imports it,
 * and every cached workflow instantiates its imports.
 */

/** Routing mode across several deliveries: `all` sends on each, `fallback` stops at the first success. */
export type RoutingMode = 'all' | 'fallback';

/** One delivery of a notification on one channel. `to` and `content` are validated by the channel's schema. */
export interface Delivery {
  channel: string;
  to: unknown;
  content: unknown;
}

/** The validated notification request, as written to Kafka and passed to the workflow. */
export interface NotificationRequest {
  deliveries: Delivery[];
  routing: RoutingMode;
  /** ISO-8601 instant; absent means send now. */
  sendAt?: string;
  metadata?: Record<string, string>;
  tags?: string[];
}

/** Retry policy for one channel, in milliseconds (serialisable; converted to a Temporal RetryPolicy in the workflow). */
export interface ChannelRetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  /** Upper bound for one attempt (activity start-to-close timeout). */
  attemptTimeoutMs: number;
  /** Upper bound for all attempts of one delivery (activity schedule-to-close timeout). */
  totalTimeoutMs: number;
}

/** Everything the workflow needs; fixed when ingest starts the workflow so that replays are deterministic. */
export interface NotificationWorkflowInput {
  id: string;
  /** Owner of the notification (API key name, or `anonymous` when auth is disabled). */
  clientId: string;
  request: NotificationRequest;
  acceptedAt: string;
  /** Task queue prefix: a delivery for channel `c` runs on `${taskQueuePrefix}-${c}`. */
  taskQueuePrefix: string;
  retryPolicies: Record<string, ChannelRetryPolicy>;
  /** How long a notification whose deliveries failed waits for a `retry` signal before it completes as failed. */
  awaitRetryMs: number;
}

/** Lifecycle of a notification as reported by the status API. */
export type NotificationStatus = 'accepted' | 'scheduled' | 'sending' | 'sent' | 'failed' | 'cancelled';

/** Lifecycle of one delivery. `skipped` is a fallback delivery that was not needed. */
export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled' | 'skipped';

/** State of one delivery, as kept by the workflow and returned by its `status` query. */
export interface DeliveryState {
  channel: string;
  status: DeliveryStatus;
  /** Number of activity executions (re-drives included) that finished, successfully or not. */
  attempts: number;
  providerMessageId?: string;
  lastError?: { message: string; type?: string; permanent: boolean; at: string };
  sentAt?: string;
}

/** The workflow's view of a notification (answer of the `status` query). */
export interface NotificationState {
  id: string;
  status: NotificationStatus;
  routing: RoutingMode;
  sendAt?: string;
  metadata?: Record<string, string>;
  tags?: string[];
  deliveries: DeliveryState[];
  acceptedAt: string;
  updatedAt: string;
  completedAt?: string;
  /** Set while a failed notification waits for an operator's `retry` signal. */
  awaitingRetryUntil?: string;
}

/** Input of the channel delivery activity. */
export interface DeliverInput {
  notificationId: string;
  channel: string;
  to: unknown;
  content: unknown;
  metadata?: Record<string, string>;
  /** Provider idempotency key: notification id + channel (+ index when one notification uses a channel twice). */
  idempotencyKey: string;
}

/** Result of the channel delivery activity. */
export interface DeliverResult {
  providerMessageId: string;
}

/** Names of the workflow's signals and queries, shared by the workflow and its callers. */
export const SIGNAL_CANCEL = 'cancel';
export const SIGNAL_RETRY = 'retry';
export const QUERY_STATUS = 'status';

/** The workflow type name, as registered by the workflow worker. */
export const NOTIFICATION_WORKFLOW_TYPE = 'notificationWorkflow';

/** Kafka record schema version written in the `schema-version` header and the envelope. */
export const ENVELOPE_VERSION = 1;

/** Task queue for deliveries of one channel. */
export function channelTaskQueue(prefix: string, channel: string): string {
  return `${prefix}-${channel}`;
}

/** Task queue for the notification workflows themselves. */
export function workflowTaskQueue(prefix: string): string {
  return `${prefix}-workflows`;
}

/**
 * Custom search attributes the workflow sets so the Web UI can filter ("all failed SMS in the last hour").
 * Values never contain PII: channel names, status words and user tags only.
 */
export const SEARCH_ATTRIBUTES = {
  channels: { name: 'NotifyChannels', type: 'KeywordList' },
  status: { name: 'NotifyStatus', type: 'Keyword' },
  tags: { name: 'NotifyTags', type: 'KeywordList' },
  client: { name: 'NotifyClient', type: 'Keyword' },
} as const;
