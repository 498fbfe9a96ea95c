import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { SignalDefinition } from '@temporalio/workflow';
import type { ChannelActivities, DeliverActivityResult, DigestActivities } from '../activities/index.js';
import type {
  DigestAssignment,
  DigestItem,
  DigestOutcome,
  DigestWorkflowInput,
  JoinDigestInput,
} from '../shared/digest.js';
import {
  combineDigestContent,
  DIGEST_IDLE_MS,
  DIGEST_JOIN_TIMEOUT_MS,
  DIGEST_MAX_ITEMS,
  DIGEST_MIN_WINDOW_MS,
  DIGEST_RECENT_IDS,
  digestSendId,
  digestWorkflowId,
  parseDigestWindow,
  SIGNAL_DIGEST_ADD,
  SIGNAL_DIGEST_ASSIGNED,
  SIGNAL_DIGEST_OUTCOME,
} from '../shared/digest.js';
import type {
  DeliverInput,
  DeliveryState,
  NotificationState,
  NotificationStatus,
  NotificationWorkflowInput,
} from '../shared/notification.js';
import { QUERY_STATUS, workflowTaskQueue } from '../shared/notification.js';
import { FAILURE_TYPES } from '../shared/failure-types.js';
import { channelActivityOptions } from './channel-activities.js';

/** Signal to the digest workflow: add a notification (ignored when its id was seen before). */
export const digestAddSignal = defineSignal<[DigestItem]>(SIGNAL_DIGEST_ADD);
/** Signal to a digested notification: the send its window will go out as. */
export const digestAssignedSignal = defineSignal<[DigestAssignment]>(SIGNAL_DIGEST_ASSIGNED);
/** Signal to a digested notification: how its window's send ended, per delivery. */
export const digestOutcomeSignal = defineSignal<[DigestOutcome]>(SIGNAL_DIGEST_OUTCOME);

/** What the digest workflow's `status` query answers (operators, tests). */
export interface DigestView {
  /** `collecting` while a window is open, `sending` while it is sent, `idle` between windows. */
  phase: 'collecting' | 'sending' | 'idle';
  sendId?: string;
  /** Ids in the open (or sending) window, oldest first. */
  items: string[];
  /** Ids that arrived while the window was being sent: they open the next window. */
  next: string[];
  windowsSent: number;
}
/** Query: the digest's current window. */
export const digestStatusQuery = defineQuery<DigestView>(QUERY_STATUS);

/** Outcome of one channel's send of a window. */
type ChannelOutcome = Omit<DeliveryState, 'channel'>;

/**
 * The digest actor: one long-lived workflow per (deployment, client, recipient, digest key), workflow id
 * {@link digestWorkflowId}, started and fed by signal-with-start from the notification workflows (join activity).
 *
 * Each run handles one window: the first notification opens it for its `window`; every notification signalled
 * while it is open joins it (each told the send id at once); when it closes (or holds {@link DIGEST_MAX_ITEMS}, or
 * Temporal suggests continue-as-new) it is sent once per channel through the channel task queues, and each
 * notification gets the outcome. Notifications that arrive while the window is being sent wait in `next`; the run
 * then continues as new with them (opening the next window), or, with none, waits {@link DIGEST_IDLE_MS} for one and
 * completes. Signals are deduplicated by notification id (also across continue-as-new via `recent`), so a retried
 * join never adds an item twice; every handler has finished before the run closes.
 */
export async function digestWorkflow(input: DigestWorkflowInput): Promise<DigestView> {
  const seen = new Set(input.recent);
  const window: DigestItem[] = [];
  const next: DigestItem[] = [];
  let phase: DigestView['phase'] = 'collecting';
  let sendId: string | undefined = undefined;
  for (const item of input.pending) {
    if (seen.has(item.notificationId)) continue;
    seen.add(item.notificationId);
    window.push(item);
  }
  setHandler(digestAddSignal, (item) => {
    if (seen.has(item.notificationId)) return;
    seen.add(item.notificationId);
    (phase === 'collecting' && window.length < DIGEST_MAX_ITEMS ? window : next).push(item);
  });
  const view = (): DigestView => ({
    phase,
    ...(sendId !== undefined ? { sendId } : {}),
    items: window.map((i) => i.notificationId),
    next: next.map((i) => i.notificationId),
    windowsSent: input.windowsSent,
  });
  setHandler(digestStatusQuery, view);

  if (window.length === 0) await condition(() => window.length > 0, DIGEST_IDLE_MS);
  await condition(allHandlersFinished);
  // Re-checked here, not taken from condition's result: a signal handled in the same activation counts.
  const opener = window[0];
  if (opener === undefined) return view();

  const self = workflowInfo().workflowId;
  const id = digestSendId(opener.notificationId);
  sendId = id;
  const closesAt = Date.now() + opener.windowMs;
  let assigned = 0;
  const assignNew = async (): Promise<void> => {
    const batch = window.slice(assigned);
    assigned = window.length;
    await Promise.all(
      batch.map((i) => tell(i.notificationId, digestAssignedSignal, { sendId: id, digestWorkflowId: self })),
    );
  };
  for (;;) {
    await assignNew();
    const remaining = closesAt - Date.now();
    if (remaining <= 0 || window.length >= DIGEST_MAX_ITEMS || workflowInfo().continueAsNewSuggested) break;
    await condition(() => window.length > assigned || window.length >= DIGEST_MAX_ITEMS, remaining);
  }
  phase = 'sending';
  // Joined while the last assignments were in flight: still part of this window (later ones go to `next`).
  await assignNew();

  const channels = [...new Set(window.flatMap((i) => i.deliveries.map((d) => d.channel)))];
  const outcomes = new Map<string, ChannelOutcome>();
  await Promise.all(
    channels.map(async (channel) => {
      outcomes.set(channel, await sendChannel(input, id, channel, window));
    }),
  );
  await Promise.all(
    window.map((item) =>
      tell(item.notificationId, digestOutcomeSignal, {
        sendId: id,
        deliveries: item.deliveries.map((d) => ({
          channel: d.channel,
          ...(outcomes.get(d.channel) ?? { status: 'failed', attempts: 0 }),
        })),
      }),
    ),
  );
  input.windowsSent += 1;
  phase = 'idle';

  if (next.length === 0) await condition(() => next.length > 0, DIGEST_IDLE_MS);
  await condition(allHandlersFinished);
  if (next.length === 0) return view();
  // The `next` ids are not in `recent`: the new run adds them to its seen set when it takes them from `pending`.
  const recent = [...input.recent, ...window.map((i) => i.notificationId)];
  return continueAsNew<typeof digestWorkflow>({
    ...input,
    pending: [...next],
    recent: recent.slice(-DIGEST_RECENT_IDS),
  });
}

/** Signals a notification workflow; one that is gone (terminated, reset) cannot be told and is skipped. */
async function tell<T>(workflowId: string, signal: SignalDefinition<[T]>, payload: T): Promise<void> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(signal, payload);
  } catch {
    // The notification workflow no longer exists: nothing waits for this answer.
  }
}

/** Sends one window on one channel: the combined content, once, through the channel's `deliver` activity. */
async function sendChannel(
  input: DigestWorkflowInput,
  sendId: string,
  channel: string,
  window: readonly DigestItem[],
): Promise<ChannelOutcome> {
  const entries = window.flatMap((item) =>
    item.deliveries
      .filter((d) => d.channel === channel)
      .map((d) => ({ notificationId: item.notificationId, content: d.content })),
  );
  const policy = window.find((i) => i.retryPolicies[channel] !== undefined)?.retryPolicies[channel];
  const at = () => new Date().toISOString();
  if (policy === undefined)
    return {
      status: 'failed',
      attempts: 0,
      lastError: { message: `no retry policy configured for channel "${channel}"`, permanent: true, at: at() },
    };
  const first = window[0];
  const to = window.flatMap((i) => i.deliveries).find((d) => d.channel === channel && d.to !== undefined)?.to;
  const { deliver } = proxyActivities<ChannelActivities>(
    channelActivityOptions(input.taskQueuePrefix, channel, policy),
  );
  const args: DeliverInput = {
    notificationId: sendId,
    channel,
    ...(to !== undefined ? { to } : {}),
    content: combineDigestContent(channel, sendId, entries),
    metadata: first?.metadata,
    clientId: input.clientId,
    recipient: input.recipient,
    ...(first?.category !== undefined ? { category: first.category } : {}),
    idempotencyKey: `${sendId}.${channel}`,
  };
  let attempts = 0;
  try {
    for (;;) {
      const result: DeliverActivityResult = await deliver(args);
      attempts += result.attempt;
      if (result.outcome === 'skipped') return { status: 'skipped', attempts, skipReason: result.reason };
      if (result.outcome === 'held') {
        // Quiet hours: wait durably, then run again (the activity re-resolves the profile).
        const waitMs = Date.parse(result.until) - Date.now();
        if (waitMs > 0) await sleep(waitMs);
        continue;
      }
      return { status: 'sent', attempts, providerMessageId: result.providerMessageId, sentAt: at() };
    }
  } catch (err) {
    let cause: unknown = err;
    while (cause instanceof ActivityFailure && cause.cause !== undefined) cause = cause.cause;
    const permanent =
      cause instanceof ApplicationFailure && (cause.nonRetryable || cause.type === FAILURE_TYPES.permanent);
    return {
      status: 'failed',
      attempts: attempts + 1,
      lastError: {
        message: cause instanceof Error ? cause.message : String(cause),
        ...(cause instanceof ApplicationFailure && cause.type != null ? { type: cause.type } : {}),
        permanent,
        at: at(),
      },
    };
  }
}

/**
 * The notification workflow's digest path (behind `patched('digest-v1')`): joins the digest of its recipient + key
 * through the join activity (signal-with-start), reports `digested` with `digestedInto` as soon as the digest tells
 * it which send it is part of, and completes when that send's outcome arrives (its deliveries then show the send's
 * provider message ids / errors): `digested` when it was sent, `failed` when a channel failed. Returns `undefined`
 * when the digest could not be joined within {@link DIGEST_JOIN_TIMEOUT_MS}; the notification is then sent alone.
 */
export async function runDigested(
  input: NotificationWorkflowInput,
  state: NotificationState,
  setStatus: (status: NotificationStatus) => void,
): Promise<NotificationStatus | undefined> {
  const { digest, recipient } = input.request;
  if (digest === undefined || recipient === undefined) return undefined;
  let assignment: DigestAssignment | undefined;
  let outcome: DigestOutcome | undefined;
  setHandler(digestAssignedSignal, (a) => {
    assignment ??= a;
  });
  setHandler(digestOutcomeSignal, (o) => {
    outcome ??= o;
  });
  const { joinDigest } = proxyActivities<DigestActivities>({
    taskQueue: workflowTaskQueue(input.taskQueuePrefix),
    startToCloseTimeout: 15_000,
    scheduleToCloseTimeout: DIGEST_JOIN_TIMEOUT_MS,
    retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 10_000 },
  });
  const join: JoinDigestInput = {
    workflowId: digestWorkflowId(input.taskQueuePrefix, input.clientId, recipient, digest.key),
    start: {
      clientId: input.clientId,
      recipient,
      key: digest.key,
      taskQueuePrefix: input.taskQueuePrefix,
      pending: [],
      recent: [],
      windowsSent: 0,
    },
    item: {
      notificationId: input.id,
      acceptedAt: input.acceptedAt,
      windowMs: parseDigestWindow(digest.window) ?? DIGEST_MIN_WINDOW_MS,
      deliveries: input.request.deliveries,
      ...(input.request.metadata !== undefined ? { metadata: input.request.metadata } : {}),
      ...(input.request.category !== undefined ? { category: input.request.category } : {}),
      retryPolicies: input.retryPolicies,
    },
  };
  try {
    await joinDigest(join);
  } catch {
    return undefined;
  }
  await condition(() => assignment !== undefined);
  state.digestedInto = assignment?.sendId;
  setStatus('digested');
  await condition(() => outcome !== undefined);
  const delivered = outcome?.deliveries ?? [];
  state.deliveries = state.deliveries.map((d, i) => ({ ...d, ...delivered[i], channel: d.channel }));
  return state.deliveries.every((d) => d.status === 'sent' || d.status === 'skipped') ? 'digested' : 'failed';
}
