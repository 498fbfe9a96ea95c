/**
 * Pure types and constants shared by the gateway, ingest, workflows and activities.
 *
 * This module must stay free of runtime dependencies (no zod, no Node APIs): workflow code imports it,
 * and every cached workflow instantiates its imports.
 */
import type { DigestSpec } from './digest.js';

/** Routing mode across several deliveries: `all` sends on each, `fallback` stops at the first success. */
export type RoutingMode = 'all' | 'fallback';

/**
 * One delivery of a notification on one channel. `to` and `content` are validated by the channel's schema; `to` may
 * be absent when the notification names a `recipient` (the address then comes from the profile when the delivery runs).
 */
export interface Delivery {
  channel: string;
  to?: unknown;
  /** Absent when the notification names a `template` (ingest then puts a `TemplateContent` reference here). */
  content?: unknown;
}

/** The validated notification request, as written to Kafka and passed to the workflow. */
export interface NotificationRequest {
  deliveries: Delivery[];
  routing: RoutingMode;
  /** ISO-8601 instant; absent means send now. */
  sendAt?: string;
  metadata?: Record<string, string>;
  tags?: string[];
  /** Recipient id (owner-scoped): addresses, preferences and quiet hours come from its profile. */
  recipient?: string;
  /** Category the recipient's preferences and the operator's defaults are matched against (e.g. `billing`). */
  category?: string;
  /** Template name (`templates/<name>/`): each delivery's content is rendered from the file of its channel. */
  template?: string;
  /** Variables of the template (as sensitive as content: encrypted in Kafka and Temporal like it). */
  data?: Record<string, unknown>;
  /**
   * Combine with the recipient's other notifications of the same key within a window into one send per channel
   * (see src/shared/digest.ts). Needs `recipient` (digests are per recipient id) and `routing: all`.
   */
  digest?: DigestSpec;
}

/**
 * Key of the content ingest gives each delivery of a templated notification: `{ "$template": { name, data } }`. The
 * delivery activity renders it; the request schema refuses it in caller-written content.
 */
export const TEMPLATE_CONTENT_KEY = '$template';

/** A delivery's content that is a template reference, rendered by the delivery activity for the delivery's channel. */
export interface TemplateContent {
  [TEMPLATE_CONTENT_KEY]: { name: string; data: Record<string, unknown> };
}

/** Whether a delivery's content is a template reference (see `TEMPLATE_CONTENT_KEY`). */
export function isTemplateContent(content: unknown): content is TemplateContent {
  if (typeof content !== 'object' || content === null || !Object.hasOwn(content, TEMPLATE_CONTENT_KEY)) return false;
  const ref = (content as Record<string, unknown>)[TEMPLATE_CONTENT_KEY];
  return typeof ref === 'object' && ref !== null && typeof (ref as { name?: unknown }).name === 'string';
}

/** Which template rendered a delivery: name, version (content hash of its files) and the locale used. */
export interface TemplateUse {
  name: string;
  version: string;
  locale: string;
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
  /** Emit delivery events to the client's webhook endpoints (WEBHOOK_EVENTS_ENABLED when ingest started it). */
  events?: boolean;
}

/** Lifecycle of a notification as reported by the status API. */
export type NotificationStatus =
  'accepted' | 'scheduled' | 'held' | 'sending' | 'sent' | 'failed' | 'cancelled' | 'skipped' | 'digested';

/**
 * Lifecycle of one delivery. `skipped` is a fallback delivery that was not needed, or (with `skipReason`) one the
 * recipient opted out of or whose address is suppressed; `held` waits for the recipient's quiet hours to end.
 */
export type DeliveryStatus = 'pending' | 'sending' | 'held' | 'sent' | 'failed' | 'cancelled' | 'skipped';

/** Why a delivery was skipped without sending (never retried). */
export type SkipReason = 'opted-out' | 'suppressed';

/** State of one delivery, as kept by the workflow and returned by its `status` query. */
export interface DeliveryState {
  channel: string;
  status: DeliveryStatus;
  /** Number of activity executions (re-drives included) that finished, successfully or not. */
  attempts: number;
  providerMessageId?: string;
  /** Which of the channel's providers sent it (e.g. `vonage` after a failover from `twilio`). */
  provider?: string;
  lastError?: { message: string; type?: string; permanent: boolean; at: string };
  sentAt?: string;
  skipReason?: SkipReason;
  /** While `held`: when the recipient's quiet hours end and the delivery runs again. */
  heldUntil?: string;
  /** The address the delivery was sent to, as resolved from the profile (kept in the encrypted workflow state only). */
  resolvedTo?: unknown;
  /** Templated deliveries: the template version (and locale) the delivery activity rendered. */
  template?: TemplateUse;
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
  /** Set while a delivery is held by the recipient's quiet hours (status `held`). */
  heldUntil?: string;
  recipient?: string;
  category?: string;
  /** Status `digested`: the digest send (one window of a digest) this notification was combined into. */
  digestedInto?: string;
}

/** Input of the channel delivery activity. */
export interface DeliverInput {
  notificationId: string;
  channel: string;
  /** Explicit address; absent when it is resolved from the recipient's profile. */
  to?: unknown;
  /** Owner of the notification: recipients and suppressions are looked up in its scope. */
  clientId?: string;
  recipient?: string;
  category?: string;
  content: unknown;
  metadata?: Record<string, string>;
  /** Provider idempotency key: notification id + channel (+ index when one notification uses a channel twice). */
  idempotencyKey: string;
}

/** Result of the channel delivery activity. */
export interface DeliverResult {
  providerMessageId: string;
  /** Which of the channel's providers accepted the message. */
  provider?: string;
}

/** Failure type while the recipient database cannot be reached: retried with the channel's retry policy. */
export const RECIPIENT_STORE_UNAVAILABLE = 'RecipientStoreUnavailable';
/** Failure type (permanent) when the named recipient does not exist: reason `unknown-recipient`. */
export const UNKNOWN_RECIPIENT = 'UnknownRecipient';
/** Failure type (permanent) when the recipient's profile has no address for the channel: reason `no-address`. */
export const NO_ADDRESS = 'NoAddress';

/** Failure type while this worker lacks the named template (or its channel file): retried, for a worker that has it. */
export const TEMPLATE_UNAVAILABLE = 'TemplateUnavailable';
/** Failure type (permanent) when a template does not render: a variable `data` lacks, or invalid output for the channel. */
export const TEMPLATE_RENDER_FAILED = 'TemplateRenderFailed';

/** Patch id (`patched()`) of the recipient-aware delivery path: skipped and held delivery outcomes. */
export const RECIPIENTS_PATCH = 'recipients-v1';

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
