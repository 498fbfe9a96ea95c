/**
 * Delivery events to the caller (outbound webhooks): pure types, ids and the retry schedule, shared by the workflows,
 * the event activities, the gateway and the config. No runtime dependencies (workflow code imports it).
 */

/** Event types a webhook endpoint can subscribe to. */
export const EVENT_TYPES = [
  'notification.sent',
  'notification.failed',
  'notification.cancelled',
  'delivery.sent',
  'delivery.failed',
  'delivery.skipped',
] as const;

/** One event type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Patch id (`patched()`) of the notification workflow path that emits events. */
export const EVENTS_PATCH = 'events-v1';

/** Workflow type of one event's delivery to one endpoint. */
export const EVENT_DELIVERY_WORKFLOW_TYPE = 'eventDeliveryWorkflow';

/** Task queue of the event activities (emission and delivery) and of the event delivery workflows. */
export function eventTaskQueue(prefix: string): string {
  return `${prefix}-events`;
}

/**
 * The event's id, sent as `webhook-id` (receivers deduplicate by it). Derived only from the notification id, the
 * event type, the delivery's index and the retry round (a re-driven notification can fail again), so a replayed
 * or retried workflow, or a re-run emission activity, produces the same id.
 */
export function eventId(notificationId: string, type: EventType, deliveryIndex?: number, round = 0): string {
  return [
    `evt_${notificationId}`,
    type,
    ...(deliveryIndex !== undefined ? [String(deliveryIndex)] : []),
    ...(round > 0 ? [`r${round}`] : []),
  ].join('.');
}

/** Workflow id of one event's delivery to one endpoint: a second start of the same pair is refused (already done). */
export function eventDeliveryWorkflowId(id: string, endpointId: string): string {
  return `event-${id}-${endpointId}`;
}

/** An event as the notification workflow emits it (the emission activity fans it out to the subscribed endpoints). */
export interface EmittedEvent {
  id: string;
  type: EventType;
  notificationId: string;
  /** Workflow time of the outcome (ISO-8601). */
  timestamp: string;
  /** The `data` of the payload: notification id, the client's metadata and the status fields. */
  data: Record<string, unknown>;
}

/** Input of the emission activity: every event of one workflow task, for one client. */
export interface EmitEventsInput {
  owner: string;
  events: EmittedEvent[];
}

/**
 * Retry schedule of one event delivery: attempt n+1 starts `min(initial × backoff^(n-1), maxInterval)` after attempt n
 * failed; no attempt starts later than `totalMs` after the first, and at most `maxAttempts` run.
 */
export interface EventRetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  totalMs: number;
  /** Upper bound of one HTTP attempt. */
  attemptTimeoutMs: number;
}

/**
 * The delays (ms, after the first attempt's start) at which each attempt starts: `[0, …]`. Used by the delivery
 * workflow and printed in the README for the defaults.
 */
export function retrySchedule(policy: EventRetryPolicy): number[] {
  const starts = [0];
  let at = 0;
  let delay = policy.initialIntervalMs;
  while (starts.length < policy.maximumAttempts) {
    at += Math.min(delay, policy.maximumIntervalMs);
    if (at > policy.totalMs) break;
    starts.push(at);
    delay *= policy.backoffCoefficient;
  }
  return starts;
}

/** Input of the delivery workflow of one event to one endpoint (fixed at start, so replays are deterministic). */
export interface EventDeliveryInput {
  eventId: string;
  type: EventType;
  notificationId: string;
  owner: string;
  endpointId: string;
  /** The exact JSON body POSTed on every attempt (`{type, timestamp, data}`). */
  body: string;
  taskQueuePrefix: string;
  retry: EventRetryPolicy;
}

/** Outcome of one delivery attempt, as the activity reports it to the workflow. */
export type EventAttemptOutcome =
  | { outcome: 'delivered'; statusCode: number }
  | { outcome: 'failed'; statusCode?: number; error: string }
  /** The receiver answered 410 Gone: the endpoint is disabled and no further attempt is made. */
  | { outcome: 'endpoint-disabled'; statusCode?: number }
  /** The endpoint was deleted meanwhile. */
  | { outcome: 'endpoint-deleted' };

/** Input of one delivery attempt. */
export interface DeliverEventInput {
  eventId: string;
  owner: string;
  endpointId: string;
  body: string;
  attempt: number;
  /** No attempt follows this one when it fails: the delivery is then recorded as failed. */
  last: boolean;
  attemptTimeoutMs: number;
}

/** What the delivery workflow returns (and the Web UI shows as its result). */
export interface EventDeliveryResult {
  outcome: 'delivered' | 'failed' | 'endpoint-disabled' | 'endpoint-deleted';
  attempts: number;
}
