import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { DeliveryError, PermanentDeliveryError } from '../channels/errors.js';
import type { ChannelSender } from '../channels/types.js';
import type { DeliverInput, DeliverResult } from '../shared/notification.js';
import { scrubText } from '../logging/create-logger.js';

/** Dependencies of the channel activities; only the worker entry point builds the real ones. */
export interface ActivityDeps {
  /** One sender per channel this worker serves. */
  senders: ReadonlyMap<string, ChannelSender<unknown, unknown>>;
  logger: Logger;
  /** Interval between activity heartbeats while a send is in flight (the workflow sets a heartbeat timeout). */
  heartbeatIntervalMs?: number;
  /** Called after each send attempt, for metrics. */
  onOutcome?: (outcome: { channel: string; result: 'sent' | 'permanent' | 'transient'; durationMs: number }) => void;
}

/** Result of `deliver`: the provider's message id and which attempt succeeded. */
export interface DeliverActivityResult extends DeliverResult {
  attempt: number;
}

/** The activities as the workflow sees them (used with `import type` in workflow code). */
export interface ChannelActivities {
  deliver(input: DeliverInput): Promise<DeliverActivityResult>;
}

/**
 * Builds the delivery activity. It calls the channel's sender with the notification's idempotency key and the
 * activity's cancellation signal, and maps typed channel errors to Temporal failures: permanent → non-retryable,
 * transient → retryable, with a provider's Retry-After as the next retry delay.
 */
export function createActivities(deps: ActivityDeps): ChannelActivities {
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 2_000;
  return {
    async deliver(input: DeliverInput): Promise<DeliverActivityResult> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const log = deps.logger.child({ notificationId: input.notificationId, channel: input.channel, attempt });
      const sender = deps.senders.get(input.channel);
      if (sender === undefined) {
        // A misrouted task: this worker does not serve the channel. Retryable, so a correct worker can pick it up.
        throw ApplicationFailure.retryable(`this worker does not serve channel "${input.channel}"`, 'ChannelNotServed', { attempt });
      }
      ctx.heartbeat({ phase: 'sending' });
      const timer = setInterval(() => ctx.heartbeat({ phase: 'sending' }), heartbeatIntervalMs);
      const started = performance.now();
      // The provider call as a CLIENT span, child of the activity's span (Temporal tracing interceptor) when tracing is on.
      const span = trace.getTracer('notify').startSpan(`send ${input.channel}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'notify.notification_id': input.notificationId, 'notify.channel': input.channel, 'notify.attempt': attempt },
      });
      try {
        const result = await context.with(trace.setSpan(context.active(), span), () =>
          sender.send(
            { to: input.to, content: input.content },
            { idempotencyKey: input.idempotencyKey, notificationId: input.notificationId, signal: ctx.cancellationSignal, metadata: input.metadata },
          ),
        );
        span.setAttribute('notify.provider_message_id', result.providerMessageId);
        deps.onOutcome?.({ channel: input.channel, result: 'sent', durationMs: performance.now() - started });
        log.info({ providerMessageId: result.providerMessageId }, 'delivered');
        return { providerMessageId: result.providerMessageId, attempt };
      } catch (err) {
        const durationMs = performance.now() - started;
        // Provider texts may quote the recipient; spans are exported like logs.
        span.setStatus({ code: SpanStatusCode.ERROR, message: scrubText(err instanceof Error ? err.message : String(err)) });
        if (err instanceof DeliveryError) {
          deps.onOutcome?.({ channel: input.channel, result: err.permanent ? 'permanent' : 'transient', durationMs });
          log.warn({ err: { type: err.name, message: err.message, code: err.code } }, 'delivery attempt failed');
          throw toFailure(err, attempt);
        }
        deps.onOutcome?.({ channel: input.channel, result: 'transient', durationMs });
        log.warn({ err: { type: err instanceof Error ? err.name : typeof err, message: err instanceof Error ? err.message : String(err) } }, 'delivery attempt failed unexpectedly');
        // Unknown errors (bugs, unexpected library failures) are retried: losing a notification is worse than a retry.
        throw ApplicationFailure.create({
          message: err instanceof Error ? err.message : String(err),
          type: err instanceof Error ? err.name : 'UnknownError',
          details: [{ attempt }],
          cause: err instanceof Error ? err : undefined,
        });
      } finally {
        span.end();
        clearInterval(timer);
      }
    },
  };
}

/** Maps a typed delivery error to the Temporal failure that makes the retry policy do the right thing. */
export function toFailure(err: DeliveryError, attempt: number): ApplicationFailure {
  if (err instanceof PermanentDeliveryError) {
    return ApplicationFailure.create({ message: err.message, type: 'PermanentDeliveryError', nonRetryable: true, details: [{ attempt, code: err.code }] });
  }
  const retryAfterMs = 'retryAfterMs' in err && typeof err.retryAfterMs === 'number' ? err.retryAfterMs : undefined;
  return ApplicationFailure.create({
    message: err.message,
    type: 'TransientDeliveryError',
    nonRetryable: false,
    details: [{ attempt, code: err.code }],
    nextRetryDelay: retryAfterMs !== undefined ? Math.max(retryAfterMs, 1) : undefined,
  });
}
