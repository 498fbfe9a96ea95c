import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  condition,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type {
  DeliverResult,
  DeliverInput,
  DeliveryState,
  NotificationState,
  NotificationStatus,
  NotificationWorkflowInput,
} from '../shared/notification.js';
import {
  QUERY_STATUS,
  RECIPIENTS_PATCH,
  SEARCH_ATTRIBUTES,
  SIGNAL_CANCEL,
  SIGNAL_RETRY,
} from '../shared/notification.js';
import { FAILURE_TYPES } from '../shared/failure-types.js';
import { DIGEST_PATCH } from '../shared/digest.js';
import { runDigested } from './digest-workflow.js';
import { channelActivityOptions } from './channel-activities.js';
import type { ChannelActivities, DeliverActivityResult } from '../activities/index.js';
import { EVENTS_PATCH } from '../shared/events.js';
import { NotificationEvents } from './events.js';

/** Signal: cancel the notification if nothing has been sent yet (ignored once sending started). */
export const cancelSignal = defineSignal<[{ reason?: string }?]>(SIGNAL_CANCEL);
/** Signal: re-drive the deliveries that failed (permanently or after exhausting retries). */
export const retrySignal = defineSignal<[{ reason?: string }?]>(SIGNAL_RETRY);
/** Query: the notification's current state, as served by `GET /v1/notifications/:id`. */
export const statusQuery = defineQuery<NotificationState>(QUERY_STATUS);

const statusKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.status.name, SearchAttributeType.KEYWORD);

/** Error type the activity layer gives permanent delivery failures; never retried by Temporal. */
export const PERMANENT_FAILURE_TYPE = FAILURE_TYPES.permanent;

/**
 * One workflow per notification (workflow id = notification id).
 *
 * Waits durably for `sendAt`, then runs each delivery as an activity on its channel's task queue — all at once
 * (`routing: all`) or one after the other until one succeeds (`routing: fallback`). When deliveries fail, the
 * workflow does not vanish: it reports `failed` and waits (bounded by `awaitRetryMs`) for a `retry` signal from the
 * API, the `temporal` CLI or the Web UI, then completes as failed if none comes.
 */
export async function notificationWorkflow(input: NotificationWorkflowInput): Promise<NotificationState> {
  // Delivery events to the caller (src/workflows/events.ts): emitted at each outcome, handed over before completion.
  const events = input.events === true && patched(EVENTS_PATCH) ? new NotificationEvents(input) : undefined;
  const result = await runNotification(input, events);
  await events?.drain();
  return result;
}

async function runNotification(
  input: NotificationWorkflowInput,
  events?: NotificationEvents,
): Promise<NotificationState> {
  const { request } = input;
  const now = () => new Date().toISOString();
  const state: NotificationState = {
    id: input.id,
    status: request.sendAt !== undefined && Date.parse(request.sendAt) > Date.now() ? 'scheduled' : 'sending',
    routing: request.routing,
    sendAt: request.sendAt,
    metadata: request.metadata,
    tags: request.tags,
    ...(request.recipient !== undefined ? { recipient: request.recipient } : {}),
    ...(request.category !== undefined ? { category: request.category } : {}),
    deliveries: request.deliveries.map((d) => ({ channel: d.channel, status: 'pending', attempts: 0 })),
    acceptedAt: input.acceptedAt,
    updatedAt: now(),
  };
  let cancelRequested = false;
  let retryRequested = false;
  let sendingStarted = false;

  const setStatus = (status: NotificationStatus): void => {
    state.status = status;
    state.updatedAt = now();
    upsertSearchAttributes([{ key: statusKey, value: status }]);
  };

  setHandler(statusQuery, () => state);
  setHandler(cancelSignal, () => {
    // Once a send is in flight it cannot be recalled; a cancel then only ends a wait for `retry` or a quiet-hours hold.
    if (!sendingStarted || state.status === 'failed' || state.status === 'held') cancelRequested = true;
  });
  setHandler(retrySignal, () => {
    if (state.status === 'failed') retryRequested = true;
  });

  if (workflowInfo().typedSearchAttributes.get(statusKey) === undefined || state.status === 'scheduled') {
    upsertSearchAttributes([{ key: statusKey, value: state.status }]);
  }

  if (request.sendAt !== undefined) {
    const waitMs = Date.parse(request.sendAt) - Date.now();
    if (waitMs > 0 && (await condition(() => cancelRequested, waitMs))) {
      return finish('cancelled');
    }
  }
  if (cancelRequested) return finish('cancelled');
  if (request.digest !== undefined && patched(DIGEST_PATCH)) {
    sendingStarted = true;
    const digested = await runDigested(input, state, setStatus);
    if (digested !== undefined) {
      // The digest's send is each digested notification's delivery: its outcome is their delivery event.
      state.deliveries.forEach((d, i) => events?.delivery(i, d, state));
      return finish(digested);
    }
  }

  for (;;) {
    sendingStarted = true;
    setStatus('sending');
    await runDeliveries(input, state, now, {
      setStatus,
      cancelled: () => cancelRequested,
      outcome: (index, d) => events?.delivery(index, d, state),
    });
    if (cancelRequested && state.deliveries.some((d) => d.status === 'cancelled')) return finish('cancelled');
    // Every delivery skipped by the recipient's choices or the suppression list: nothing to send, nothing to retry.
    if (
      state.deliveries.length > 0 &&
      state.deliveries.every((d) => d.status === 'skipped' && d.skipReason !== undefined)
    )
      return finish('skipped');
    const anySent = state.deliveries.some((d) => d.status === 'sent');
    const allDone = state.deliveries.every((d) => d.status === 'sent' || d.status === 'skipped');
    const succeeded = request.routing === 'fallback' ? anySent : allDone;
    if (succeeded) return finish('sent');

    setStatus('failed');
    events?.notification(state);
    if (input.awaitRetryMs <= 0) return finish('failed');
    state.awaitingRetryUntil = new Date(Date.now() + input.awaitRetryMs).toISOString();
    const signalled = await condition(() => retryRequested || cancelRequested, input.awaitRetryMs);
    state.awaitingRetryUntil = undefined;
    if (!signalled) return finish('failed');
    if (cancelRequested) return finish('cancelled');
    retryRequested = false;
    events?.retried();
    for (const d of state.deliveries) {
      if (d.status === 'failed' || (request.routing === 'fallback' && d.status === 'skipped')) {
        d.status = 'pending';
        d.skipReason = undefined;
      }
    }
  }

  function finish(status: NotificationStatus): NotificationState {
    for (const d of state.deliveries) {
      if (status === 'cancelled' && d.status === 'pending') d.status = 'cancelled';
    }
    setStatus(status);
    state.completedAt = state.updatedAt;
    if (status !== 'failed') events?.notification(state);
    return state;
  }
}

/** What a delivery needs from its workflow to hold for quiet hours: the status setter and whether a cancel came. */
interface HoldControl {
  setStatus(status: NotificationStatus): void;
  cancelled(): boolean;
  /** Called when the delivery reached an outcome (sent, failed, skipped): emits its event. */
  outcome?(index: number, d: DeliveryState): void;
}

async function runDeliveries(
  input: NotificationWorkflowInput,
  state: NotificationState,
  now: () => string,
  hold: HoldControl,
): Promise<void> {
  const pending = state.deliveries.map((d, index) => ({ d, index })).filter(({ d }) => d.status === 'pending');
  if (input.request.routing === 'all') {
    await Promise.all(pending.map(({ d, index }) => runOne(input, state, d, index, now, hold)));
    return;
  }
  for (const { d, index } of pending) {
    if (hold.cancelled()) return;
    if (await runOne(input, state, d, index, now, hold)) {
      for (const rest of state.deliveries) if (rest.status === 'pending') rest.status = 'skipped';
      return;
    }
  }
}

/** Runs one delivery to completion (all its retries); returns whether it was sent. */
async function runOne(
  input: NotificationWorkflowInput,
  state: NotificationState,
  d: DeliveryState,
  index: number,
  now: () => string,
  hold: HoldControl,
): Promise<boolean> {
  const delivery = input.request.deliveries[index];
  if (delivery === undefined) return false;
  const policy = input.retryPolicies[delivery.channel];
  if (policy === undefined) {
    d.status = 'failed';
    d.lastError = {
      message: `no retry policy configured for channel "${delivery.channel}"`,
      permanent: true,
      at: now(),
    };
    return false;
  }
  const { deliver } = proxyActivities<ChannelActivities>(
    channelActivityOptions(input.taskQueuePrefix, delivery.channel, policy),
  );
  const sameChannelBefore = input.request.deliveries
    .slice(0, index)
    .filter((x) => x.channel === delivery.channel).length;
  const args: DeliverInput = {
    notificationId: input.id,
    channel: delivery.channel,
    to: delivery.to,
    content: delivery.content,
    metadata: input.request.metadata,
    ...(input.request.recipient !== undefined
      ? { recipient: input.request.recipient, clientId: input.clientId }
      : { clientId: input.clientId }),
    ...(input.request.category !== undefined ? { category: input.request.category } : {}),
    idempotencyKey: `${input.id}.${delivery.channel}${sameChannelBefore > 0 ? `.${sameChannelBefore}` : ''}`,
  };
  d.status = 'sending';
  try {
    for (;;) {
      const result: DeliverActivityResult | (DeliverResult & { attempt?: number; outcome?: undefined }) =
        await deliver(args);
      d.attempts += result.attempt ?? 1;
      if (result.outcome === 'skipped') {
        // Opted out or suppressed: nothing was sent and retrying cannot change that; fallback goes on to the next entry.
        d.status = 'skipped';
        d.skipReason = result.reason;
        d.lastError = undefined;
        hold.outcome?.(index, d);
        return false;
      }
      if (result.outcome === 'held' && patched(RECIPIENTS_PATCH)) {
        // Quiet hours: a durable timer holds the delivery (never dropped), then it runs again and re-resolves.
        d.status = 'held';
        d.heldUntil = result.until;
        state.heldUntil = result.until;
        hold.setStatus('held');
        const waitMs = Date.parse(result.until) - Date.now();
        const cancelled = waitMs > 0 ? await condition(() => hold.cancelled(), waitMs) : hold.cancelled();
        d.heldUntil = undefined;
        if (!state.deliveries.some((x) => x.status === 'held' && x !== d)) state.heldUntil = undefined;
        if (cancelled) {
          d.status = 'cancelled';
          return false;
        }
        d.status = 'sending';
        if (state.status === 'held' && state.heldUntil === undefined) hold.setStatus('sending');
        continue;
      }
      if (result.outcome !== undefined && result.outcome !== 'sent') continue;
      d.status = 'sent';
      d.providerMessageId = result.providerMessageId;
      if (result.provider !== undefined) d.provider = result.provider;
      if ('resolvedTo' in result && result.resolvedTo !== undefined) d.resolvedTo = result.resolvedTo;
      if ('template' in result && result.template !== undefined) d.template = result.template;
      d.sentAt = now();
      d.lastError = undefined;
      hold.outcome?.(index, d);
      return true;
    }
  } catch (err) {
    d.status = 'failed';
    d.lastError = describeFailure(err, now());
    d.attempts += attemptsOf(err);
    hold.outcome?.(index, d);
    return false;
  }
}

function innermost(err: unknown): unknown {
  let cur = err;
  while (cur instanceof ActivityFailure && cur.cause !== undefined) cur = cur.cause;
  return cur;
}

function describeFailure(err: unknown, at: string): NonNullable<DeliveryState['lastError']> {
  const cause = innermost(err);
  if (cause instanceof ApplicationFailure) {
    return {
      message: cause.message,
      type: cause.type ?? undefined,
      permanent: cause.nonRetryable || cause.type === PERMANENT_FAILURE_TYPE,
      at,
    };
  }
  if (cause instanceof CancelledFailure)
    return { message: 'delivery cancelled', type: 'Cancelled', permanent: false, at };
  if (cause instanceof Error) return { message: cause.message, type: cause.name, permanent: false, at };
  return { message: String(cause), permanent: false, at };
}

function attemptsOf(err: unknown): number {
  const cause = innermost(err);
  if (cause instanceof ApplicationFailure) {
    const detail: unknown = cause.details?.[0];
    if (typeof detail === 'object' && detail !== null && 'attempt' in detail && typeof detail.attempt === 'number')
      return detail.attempt;
  }
  return 1;
}
