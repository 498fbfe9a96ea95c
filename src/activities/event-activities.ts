import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { EventSender } from '../events/sender.js';
import type { EventDeliveryStatus, WebhookEndpointStore } from '../events/store.js';
import type {
  DeliverEventInput,
  EmitEventsInput,
  EventAttemptOutcome,
  EventDeliveryInput,
  EventRetryPolicy,
} from '../shared/events.js';
import { eventDeliveryWorkflowId } from '../shared/events.js';

/** Dependencies of the event activities; only the worker entry point (or a test) builds the real ones. */
export interface EventActivityDeps {
  store: Pick<
    WebhookEndpointStore,
    'subscriptions' | 'recordPending' | 'forDelivery' | 'recordAttempt' | 'markDelivery' | 'disable'
  >;
  sender: Pick<EventSender, 'post'>;
  /**
   * Starts the delivery workflow of one event to one endpoint with this workflow id (REJECT_DUPLICATE): resolves
   * `already-started` when that pair was started before (a re-run emission), which counts as done.
   */
  startDelivery(workflowId: string, input: EventDeliveryInput): Promise<'started' | 'already-started'>;
  taskQueuePrefix: string;
  /** The retry schedule every delivery started now gets (config WEBHOOK_EVENTS_RETRY_*); fixed in its input. */
  retry: EventRetryPolicy;
  logger: Logger;
}

/** The event activities as the workflows see them (used with `import type` in workflow code). */
export interface EventActivities {
  /** Fans the events out: one delivery workflow per (event, subscribed endpoint). Idempotent. */
  emitEvents(input: EmitEventsInput): Promise<{ deliveries: number }>;
  /** One HTTP attempt of one event to one endpoint; the outcome is a value, so the workflow owns the schedule. */
  deliverEvent(input: DeliverEventInput): Promise<EventAttemptOutcome>;
}

/**
 * Builds the event activities. `emitEvents` looks up the client's enabled endpoints subscribed to each event's type
 * (at the time of the event), records each delivery as pending and starts its workflow with id
 * `event-<eventId>-<endpointId>`, so a retried or replayed emission starts nothing twice. `deliverEvent` POSTs one
 * attempt and records it (status code, error, duration) for `GET /v1/webhook-endpoints/{id}/deliveries`.
 */
export function createEventActivities(deps: EventActivityDeps): EventActivities {
  return {
    async emitEvents(input: EmitEventsInput): Promise<{ deliveries: number }> {
      const endpoints = await deps.store.subscriptions(input.owner);
      let deliveries = 0;
      for (const event of input.events) {
        for (const endpoint of endpoints) {
          if (!endpoint.eventTypes.includes(event.type)) continue;
          await deps.store.recordPending(endpoint.id, {
            eventId: event.id,
            type: event.type,
            notificationId: event.notificationId,
          });
          const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
          await deps.startDelivery(eventDeliveryWorkflowId(event.id, endpoint.id), {
            eventId: event.id,
            type: event.type,
            notificationId: event.notificationId,
            owner: input.owner,
            endpointId: endpoint.id,
            body,
            taskQueuePrefix: deps.taskQueuePrefix,
            retry: deps.retry,
          });
          deliveries++;
        }
      }
      return { deliveries };
    },

    async deliverEvent(input: DeliverEventInput): Promise<EventAttemptOutcome> {
      const ctx = Context.current();
      const log = deps.logger.child({ eventId: input.eventId, endpointId: input.endpointId, attempt: input.attempt });
      const endpoint = await deps.store.forDelivery(input.owner, input.endpointId);
      if (endpoint === undefined) return { outcome: 'endpoint-deleted' };
      if (endpoint.status === 'disabled') {
        await deps.store.markDelivery(input.endpointId, input.eventId, 'endpoint-disabled');
        return { outcome: 'endpoint-disabled' };
      }
      const started = performance.now();
      const result = await deps.sender.post(
        {
          url: endpoint.url,
          secrets: endpoint.secrets,
          eventId: input.eventId,
          body: input.body,
          timeoutMs: input.attemptTimeoutMs,
        },
        ctx.cancellationSignal,
      );
      const durationMs = performance.now() - started;
      let outcome: EventAttemptOutcome;
      let status: EventDeliveryStatus;
      if (result.ok) {
        outcome = { outcome: 'delivered', statusCode: result.statusCode };
        status = 'delivered';
      } else if (result.statusCode === 410) {
        // The receiver says the endpoint is gone for good: stop sending it anything (documented in the README).
        await deps.store.disable(
          input.endpointId,
          `the receiver answered 410 Gone to event ${input.eventId} at ${new Date().toISOString()}`,
        );
        outcome = { outcome: 'endpoint-disabled', statusCode: 410 };
        status = 'endpoint-disabled';
      } else {
        outcome = {
          outcome: 'failed',
          ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
          error: result.error,
        };
        status = input.last ? 'failed' : 'retrying';
      }
      await deps.store
        .recordAttempt({
          endpointId: input.endpointId,
          eventId: input.eventId,
          attempt: input.attempt,
          statusCode: result.statusCode,
          ...(result.ok ? {} : { error: result.error }),
          durationMs,
          status,
        })
        .catch((err: unknown) =>
          // The attempt happened; its record is best effort (the workflow history has it too).
          log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not record attempt'),
        );
      if (result.ok) log.info({ statusCode: result.statusCode }, 'event delivered');
      else log.warn({ statusCode: result.statusCode, error: result.error }, 'event delivery attempt failed');
      return outcome;
    },
  };
}
