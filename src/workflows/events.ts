import { condition, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { EventActivities } from '../activities/index.js';
import type {
  EmittedEvent,
  EventAttemptOutcome,
  EventDeliveryInput,
  EventDeliveryResult,
  EventType,
} from '../shared/events.js';
import { eventId, eventTaskQueue, retrySchedule } from '../shared/events.js';
import type { DeliveryState, NotificationState, NotificationWorkflowInput } from '../shared/notification.js';

/**
 * The notification workflow's event emitter (behind `patched(EVENTS_PATCH)`). Outcomes are queued and sent by one
 * background loop: every event produced in the same workflow task goes out in one `emitEvents` activity (a
 * one-delivery notification's `delivery.sent` and `notification.sent` cost one activity), never awaited by the
 * deliveries, so events never hold a notification back. `drain()` at the end keeps the workflow open until the
 * queued events were handed over (the activity retries while the database is down, bounded by a day).
 */
export class NotificationEvents {
  private readonly queue: EmittedEvent[] = [];
  private closing = false;
  private round = 0;
  private readonly done: Promise<void>;
  private readonly emit: EventActivities['emitEvents'];

  constructor(private readonly input: NotificationWorkflowInput) {
    this.emit = proxyActivities<EventActivities>({
      taskQueue: eventTaskQueue(input.taskQueuePrefix),
      startToCloseTimeout: 30_000,
      scheduleToCloseTimeout: 24 * 3600_000,
      retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 300_000 },
    }).emitEvents;
    this.done = this.pump();
  }

  private async pump(): Promise<void> {
    for (;;) {
      await condition(() => this.queue.length > 0 || this.closing);
      if (this.queue.length === 0) return;
      const events = this.queue.splice(0);
      try {
        await this.emit({ owner: this.input.clientId, events });
      } catch (err) {
        // Only after a day of retries: logged (the notification's own outcome is unaffected).
        log.error('events could not be emitted', {
          events: events.map((e) => e.id),
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  /** A delivery reached an outcome (sent, failed or skipped). */
  delivery(index: number, d: DeliveryState, state: NotificationState): void {
    const type = `delivery.${d.status}` as EventType;
    if (d.status !== 'sent' && d.status !== 'failed' && d.status !== 'skipped') return;
    const { resolvedTo: _resolvedTo, ...fields } = d;
    this.push(type, index, { delivery: { index, ...fields } }, state);
  }

  /** The notification reached an outcome (sent, failed or cancelled; a failed one may be retried later). */
  notification(state: NotificationState): void {
    if (state.status !== 'sent' && state.status !== 'failed' && state.status !== 'cancelled') return;
    const type = `notification.${state.status}` as EventType;
    this.push(
      type,
      undefined,
      { deliveries: state.deliveries.map(({ resolvedTo: _r, ...d }, index) => ({ index, ...d })) },
      state,
    );
  }

  /** A `retry` re-drives the failed deliveries: their next outcomes are new events (new ids). */
  retried(): void {
    this.round++;
  }

  private push(type: EventType, index: number | undefined, extra: Record<string, unknown>, state: NotificationState) {
    const id = eventId(this.input.id, type, index, this.round);
    if (this.queue.some((e) => e.id === id)) return;
    this.queue.push({
      id,
      type,
      notificationId: this.input.id,
      timestamp: new Date().toISOString(),
      data: {
        notificationId: this.input.id,
        status: state.status,
        metadata: state.metadata ?? {},
        ...(state.tags !== undefined ? { tags: state.tags } : {}),
        ...(state.recipient !== undefined ? { recipient: state.recipient } : {}),
        ...(state.category !== undefined ? { category: state.category } : {}),
        ...extra,
      },
    });
  }

  /** Waits until every queued event was handed to the emission activity. */
  drain(): Promise<void> {
    this.closing = true;
    return this.done;
  }
}

/**
 * Delivers one event to one endpoint (workflow id `event-<eventId>-<endpointId>`): one `deliverEvent` activity per
 * attempt, durable timers between them following the input's retry schedule (exponential, bounded in hours), so each
 * attempt and each wait is visible in the Web UI's history. Ends when delivered, when the endpoint was disabled
 * (410 Gone) or deleted, or after the last attempt of the schedule.
 */
export async function eventDeliveryWorkflow(input: EventDeliveryInput): Promise<EventDeliveryResult> {
  const { deliverEvent } = proxyActivities<EventActivities>({
    taskQueue: eventTaskQueue(input.taskQueuePrefix),
    startToCloseTimeout: input.retry.attemptTimeoutMs + 15_000,
    // The schedule is this workflow's loop; an activity that throws (database down, worker lost) is one failed attempt.
    retry: { maximumAttempts: 1 },
  });
  const schedule = retrySchedule(input.retry);
  const start = Date.now();
  for (let i = 0; i < schedule.length; i++) {
    const wait = start + (schedule[i] ?? 0) - Date.now();
    if (wait > 0) await sleep(wait);
    const last = i === schedule.length - 1;
    let result: EventAttemptOutcome;
    try {
      result = await deliverEvent({
        eventId: input.eventId,
        owner: input.owner,
        endpointId: input.endpointId,
        body: input.body,
        attempt: i + 1,
        last,
        attemptTimeoutMs: input.retry.attemptTimeoutMs,
      });
    } catch (err) {
      result = { outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
    }
    if (result.outcome !== 'failed') return { outcome: result.outcome, attempts: i + 1 };
  }
  return { outcome: 'failed', attempts: schedule.length };
}
