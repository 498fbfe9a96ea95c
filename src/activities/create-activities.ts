import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { DeliveryError, PermanentDeliveryError } from '../channels/errors.js';
import type { ChannelSender, ProviderAttempt } from '../channels/types.js';
import { FAILURE_TYPES } from '../shared/failure-types.js';
import type { DeliverInput, DeliverResult, SkipReason, TemplateUse } from '../shared/notification.js';
import {
  isTemplateContent,
  NO_ADDRESS,
  RECIPIENT_STORE_UNAVAILABLE,
  TEMPLATE_RENDER_FAILED,
  TEMPLATE_UNAVAILABLE,
  UNKNOWN_RECIPIENT,
} from '../shared/notification.js';
import { addressKeys, isAddressFailure } from '../recipients/addresses.js';
import type { PreferenceDefaults } from '../recipients/preferences.js';
import type { DeliveryResolution, RecipientStore } from '../recipients/store.js';
import { scrubText } from '../logging/create-logger.js';
import { TemplateNotFoundError } from '../templates/template-store.js';
import type { TemplateStore } from '../templates/template-store.js';

/** Dependencies of the channel activities; only the worker entry point builds the real ones. */
export interface ActivityDeps {
  /** One sender per channel this worker serves. */
  senders: ReadonlyMap<string, ChannelSender<unknown, unknown>>;
  logger: Logger;
  /** Interval between activity heartbeats while a send is in flight (the workflow sets a heartbeat timeout). */
  heartbeatIntervalMs?: number;
  /**
   * Called after each provider call, for metrics: once per attempt for a single-provider channel, once per provider
   * tried when a channel fails over. `provider` is the provider's name (the channel's name when the sender has none).
   */
  onOutcome?: (outcome: {
    channel: string;
    provider: string;
    result: 'sent' | 'permanent' | 'transient';
    durationMs: number;
  }) => void;
  /**
   * Recipients, preferences and suppressions (PostgreSQL). When present every delivery is checked against the
   * suppression list and, when it names a recipient, resolved from the profile; without it a delivery that names a
   * recipient cannot run here (retried, for a worker that has the database).
   */
  recipients?: Pick<RecipientStore, 'resolve' | 'addSuppression'>;
  /** Operator defaults for preferences and quiet hours (config PREFERENCE_OPT_IN_CATEGORIES / URGENT_CATEGORIES). */
  preferenceDefaults?: PreferenceDefaults;
  /** Called when a delivery is skipped (opted out / suppressed) or held by quiet hours, for metrics. */
  onDecision?: (decision: { channel: string; decision: SkipReason | 'held' }) => void;
  /** Clock for quiet hours (tests). */
  now?: () => Date;
  /**
   * Compiled templates (built once per worker): a delivery whose content is a template reference is rendered here,
   * in the recipient's locale when the profile has one. Without it such a delivery waits for a worker that has them.
   */
  templates?: Pick<TemplateStore, 'render'>;
  /** Called after each template render, for metrics. */
  onRender?: (render: { channel: string; template: string; durationMs: number }) => void;
}

/**
 * Result of `deliver`: sent (the provider's message id, the address used and which attempt succeeded), skipped
 * (opted out / suppressed: nothing was sent, never retried) or held (inside the recipient's quiet hours until `until`).
 */
export type DeliverActivityResult =
  | (DeliverResult & { outcome?: 'sent'; attempt: number; resolvedTo?: unknown; template?: TemplateUse })
  | { outcome: 'skipped'; reason: SkipReason; attempt: number }
  | { outcome: 'held'; until: string; attempt: number };

const DEFAULT_PREFERENCES: PreferenceDefaults = { optInCategories: [], urgentCategories: ['urgent', 'security'] };

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
        throw ApplicationFailure.retryable(
          `this worker does not serve channel "${input.channel}"`,
          'ChannelNotServed',
          { attempt },
        );
      }
      const owner = input.clientId ?? 'anonymous';
      let to = input.to;
      let locale: string | undefined;
      if (deps.recipients !== undefined) {
        const resolution = await resolveDelivery(deps, input, owner, attempt);
        if (resolution.kind === 'skip') {
          deps.onDecision?.({ channel: input.channel, decision: resolution.reason });
          log.info({ reason: resolution.reason }, 'delivery skipped');
          return { outcome: 'skipped', reason: resolution.reason, attempt };
        }
        if (resolution.kind === 'hold') {
          deps.onDecision?.({ channel: input.channel, decision: 'held' });
          log.info({ until: resolution.until }, 'delivery held by quiet hours');
          return { outcome: 'held', until: resolution.until, attempt };
        }
        if (resolution.kind === 'unknown-recipient') {
          throw ApplicationFailure.create({
            message: 'unknown-recipient: no such recipient for this API key',
            type: UNKNOWN_RECIPIENT,
            nonRetryable: true,
            details: [{ attempt }],
          });
        }
        if (resolution.kind === 'no-address') {
          throw ApplicationFailure.create({
            message: `no-address: the recipient has no ${input.channel} address`,
            type: NO_ADDRESS,
            nonRetryable: true,
            details: [{ attempt }],
          });
        }
        to = resolution.to;
        locale = resolution.locale;
      } else if (input.recipient !== undefined) {
        throw ApplicationFailure.retryable(
          'waiting for the recipient database: this worker has none configured',
          RECIPIENT_STORE_UNAVAILABLE,
          { attempt },
        );
      }
      let content = input.content;
      let template: TemplateUse | undefined;
      if (isTemplateContent(input.content)) {
        const rendered = await renderTemplate(deps, input.channel, input.content, locale, attempt);
        content = rendered.content;
        template = rendered.template;
        log.debug({ template }, 'template rendered');
      }
      // No heartbeat up front: the heartbeat timeout counts from the attempt's start, and each heartbeat is a
      // RecordActivityTaskHeartbeat call the server persists, so a send shorter than the interval needs none.
      const timer = setInterval(() => ctx.heartbeat({ phase: 'sending' }), heartbeatIntervalMs);
      const started = performance.now();
      // Senders that call several providers report each call; the others are counted once below.
      let reported = 0;
      const onProviderAttempt = (a: ProviderAttempt) => {
        reported += 1;
        deps.onOutcome?.({ channel: input.channel, ...a });
      };
      // The provider call as a CLIENT span, child of the activity's span (Temporal tracing interceptor) when tracing is on.
      const span = trace.getTracer('notify').startSpan(`send ${input.channel}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'notify.notification_id': input.notificationId,
          'notify.channel': input.channel,
          'notify.attempt': attempt,
        },
      });
      try {
        const result = await context.with(trace.setSpan(context.active(), span), () =>
          sender.send(
            { to, content },
            {
              idempotencyKey: input.idempotencyKey,
              notificationId: input.notificationId,
              signal: ctx.cancellationSignal,
              metadata: input.metadata,
              onProviderAttempt,
            },
          ),
        );
        span.setAttribute('notify.provider_message_id', result.providerMessageId);
        if (result.provider !== undefined) span.setAttribute('notify.provider', result.provider);
        if (reported === 0)
          deps.onOutcome?.({
            channel: input.channel,
            provider: result.provider ?? input.channel,
            result: 'sent',
            durationMs: performance.now() - started,
          });
        log.info({ providerMessageId: result.providerMessageId, provider: result.provider }, 'delivered');
        return {
          providerMessageId: result.providerMessageId,
          ...(result.provider !== undefined ? { provider: result.provider } : {}),
          attempt,
          ...(input.recipient !== undefined ? { resolvedTo: to } : {}),
          ...(template !== undefined ? { template } : {}),
        };
      } catch (err) {
        const durationMs = performance.now() - started;
        // Provider texts may quote the recipient; spans are exported like logs.
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: scrubText(err instanceof Error ? err.message : String(err)),
        });
        if (err instanceof DeliveryError) {
          if (reported === 0)
            deps.onOutcome?.({
              channel: input.channel,
              provider: err.provider ?? input.channel,
              result: err.permanent ? 'permanent' : 'transient',
              durationMs,
            });
          log.warn(
            { err: { type: err.name, message: err.message, code: err.code, provider: err.provider } },
            'delivery attempt failed',
          );
          if (
            err instanceof PermanentDeliveryError &&
            err.fault === 'request' &&
            deps.recipients !== undefined &&
            isAddressFailure(input.channel, err)
          ) {
            await suppress(deps, owner, input, to, err).catch((suppressErr: unknown) => {
              // The delivery's own outcome (permanent) stands; the suppression is best effort and logged.
              log.warn(
                { err: { message: suppressErr instanceof Error ? suppressErr.message : String(suppressErr) } },
                'could not record the suppression',
              );
            });
          }
          throw toFailure(err, attempt);
        }
        if (reported === 0)
          deps.onOutcome?.({ channel: input.channel, provider: input.channel, result: 'transient', durationMs });
        log.warn(
          {
            err: {
              type: err instanceof Error ? err.name : typeof err,
              message: err instanceof Error ? err.message : String(err),
            },
          },
          'delivery attempt failed unexpectedly',
        );
        // Unknown errors (bugs, unexpected library failures) are retried: losing a notification is worse than a retry.
        throw ApplicationFailure.create({
          message: err instanceof Error ? err.message : String(err),
          type: err instanceof Error ? err.name : FAILURE_TYPES.unknown,
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

/**
 * Renders a template reference for the delivery's channel. A template this worker does not have (a deploy in
 * progress) is retried, for a worker that has it; a render that fails (a variable `data` lacks, output that is not
 * valid content for the channel) is permanent: the same data fails the same way every time.
 */
async function renderTemplate(
  deps: ActivityDeps,
  channel: string,
  ref: { $template: { name: string; data: Record<string, unknown> } },
  locale: string | undefined,
  attempt: number,
): Promise<{ content: unknown; template: TemplateUse }> {
  const { name, data } = ref.$template;
  if (deps.templates === undefined)
    throw ApplicationFailure.retryable('this worker has no templates loaded', TEMPLATE_UNAVAILABLE, { attempt });
  const started = performance.now();
  try {
    const rendered = await deps.templates.render(name, channel, data, locale);
    deps.onRender?.({ channel, template: name, durationMs: performance.now() - started });
    return { content: rendered.content, template: { name, version: rendered.version, locale: rendered.locale } };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof TemplateNotFoundError)
      throw ApplicationFailure.create({ message, type: TEMPLATE_UNAVAILABLE, details: [{ attempt }] });
    throw ApplicationFailure.create({
      message,
      type: TEMPLATE_RENDER_FAILED,
      nonRetryable: true,
      details: [{ attempt }],
    });
  }
}

async function resolveDelivery(
  deps: ActivityDeps,
  input: DeliverInput,
  owner: string,
  attempt: number,
): Promise<DeliveryResolution> {
  const store = deps.recipients;
  if (store === undefined) return { kind: 'send', to: input.to };
  try {
    return await store.resolve(
      {
        owner,
        recipientId: input.recipient,
        channel: input.channel,
        category: input.category,
        to: input.to,
        now: deps.now?.() ?? new Date(),
      },
      deps.preferenceDefaults ?? DEFAULT_PREFERENCES,
    );
  } catch (err) {
    // Database down or slow: the delivery waits (retried with the channel's policy); nothing is lost or sent blindly.
    throw ApplicationFailure.create({
      message: `waiting for the recipient database: ${err instanceof Error ? err.message : String(err)}`,
      type: RECIPIENT_STORE_UNAVAILABLE,
      nonRetryable: false,
      details: [{ attempt }],
    });
  }
}

/** Records automatic suppressions for the addresses of a delivery that failed permanently because of its address. */
async function suppress(
  deps: ActivityDeps,
  owner: string,
  input: DeliverInput,
  to: unknown,
  err: PermanentDeliveryError,
): Promise<void> {
  const store = deps.recipients;
  if (store === undefined) return;
  for (const address of addressKeys(input.channel, to)) {
    await store.addSuppression(owner, {
      channel: input.channel,
      address,
      reason: `${err.code !== undefined ? `${err.code} ` : ''}${err.message}`.slice(0, 500),
      source: 'automatic',
      recipientId: input.recipient,
      notificationId: input.notificationId,
    });
  }
}

/** Maps a typed delivery error to the Temporal failure that makes the retry policy do the right thing. */
export function toFailure(err: DeliveryError, attempt: number): ApplicationFailure {
  if (err instanceof PermanentDeliveryError) {
    return ApplicationFailure.create({
      message: err.message,
      type: FAILURE_TYPES.permanent,
      nonRetryable: true,
      details: [{ attempt, code: err.code }],
    });
  }
  const retryAfterMs = 'retryAfterMs' in err && typeof err.retryAfterMs === 'number' ? err.retryAfterMs : undefined;
  return ApplicationFailure.create({
    message: err.message,
    type: FAILURE_TYPES.transient,
    nonRetryable: false,
    details: [{ attempt, code: err.code }],
    nextRetryDelay: retryAfterMs !== undefined ? Math.max(retryAfterMs, 1) : undefined,
  });
}
