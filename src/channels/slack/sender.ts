import { LogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import type { FetchFunction } from '@slack/web-api';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import type { ChannelDeps, ChannelSender, SendContext, SendResult } from '../types.js';
import { DeliveryError, errorForHttpStatus, PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import { startDeadline } from '../deadline.js';
import type { Deadline } from '../deadline.js';
import { fetchWithLookup, idempotencyHeaders, networkMessage } from '../http.js';
import { NetworkPolicy } from '../network-guard.js';
import type { SlackConfig, SlackContent, SlackRecipient } from './schema.js';

/** Slack platform errors (`ok: false`) worth retrying; every other platform error is permanent. */
const TRANSIENT_SLACK_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);
/** Errors that mean the bot token or app configuration is wrong; the message names the setting to fix. */
const AUTH_SLACK_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'no_permission',
]);

/** The status and Retry-After of the last HTTP response of one send, seen through the SDK's fetch hook. */
interface LastResponse {
  status?: number;
  retryAfter?: string | null;
}

/**
 * Builds the Slack sender: `chat.postMessage` with the bot token for `{ channel }` recipients (`@slack/web-api`), or an
 * incoming webhook for `{ webhookUrl }` recipients (`@slack/webhook`). SDK retries are off (Temporal retries);
 * each send runs under its own deadline linked to `ctx.signal`.
 *
 * chat.postMessage has no idempotency key, so the message carries `metadata` (`notify_notification` with the
 * notification id and idempotency key) and the request carries `Idempotency-Key`; a duplicate is traceable by both.
 * Returns `<channel>:<ts>` for chat.postMessage and the idempotency key for webhooks (which return no id).
 *
 * Incoming-webhook URLs come from API callers, so they get the webhook channel's SSRF guard (network-guard.ts):
 * internal addresses are refused after DNS resolution, inside the connection's lookup, unless SLACK_ALLOWED_NETWORKS
 * lists them, and redirects are not followed. `SLACK_API_URL` is operator-chosen and not checked.
 */
export function createSlackSender(
  config: SlackConfig,
  _deps: ChannelDeps,
): ChannelSender<SlackRecipient, SlackContent> {
  const network = new NetworkPolicy(config.allowedNetworks, 'SLACK_ALLOWED_NETWORKS');
  // Own connection pools for incoming webhooks: keep-alive sockets were opened to addresses this policy checked.
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return {
    async send({ to, content }, ctx: SendContext): Promise<SendResult> {
      const what =
        'webhookUrl' in to ? `Slack incoming webhook ${new URL(to.webhookUrl).host}` : `Slack API ${config.apiUrl}`;
      const deadline = startDeadline(config.timeoutMs, ctx.signal, what);
      const last: LastResponse = {};
      try {
        if ('webhookUrl' in to) {
          // An IP literal is connected to without a DNS lookup: check it here; names are checked in the lookup itself.
          network.assertUrlAllowed(new URL(to.webhookUrl), what);
          const fetchFn = deadlineFetch(
            deadline,
            last,
            idempotencyHeaders(ctx),
            fetchWithLookup(network.lookup(what), agents),
          );
          const hook = new IncomingWebhook(to.webhookUrl, {
            fetch: fetchFn,
            timeout: config.timeoutMs,
            retryConfig: { retries: 0 },
          });
          await hook.send({ text: content.text, blocks: content.blocks as never, metadata: slackMetadata(ctx) });
          return { providerMessageId: ctx.idempotencyKey };
        }
        const fetchFn = deadlineFetch(deadline, last, idempotencyHeaders(ctx));
        const client = new WebClient(config.botToken, {
          slackApiUrl: `${config.apiUrl}/`,
          retryConfig: { retries: 0 },
          timeout: config.timeoutMs,
          rejectRateLimitedCalls: true,
          fetch: fetchFn,
          logLevel: LogLevel.ERROR,
        });
        const result = await client.chat.postMessage({
          channel: to.channel,
          text: content.text,
          blocks: content.blocks as never,
          metadata: slackMetadata(ctx),
        });
        if (typeof result.ts !== 'string') throw new TransientDeliveryError(`${what} answered ok without a message ts`);
        return { providerMessageId: `${result.channel ?? to.channel}:${result.ts}` };
      } catch (err) {
        throw slackDeliveryError(err, what, deadline, last);
      } finally {
        deadline.dispose();
      }
    },
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
      return Promise.resolve();
    },
  };
}

function slackMetadata(ctx: SendContext) {
  return {
    event_type: 'notify_notification',
    event_payload: { notification_id: ctx.notificationId, idempotency_key: ctx.idempotencyKey },
  };
}

/**
 * A fetch for the Slack SDKs that adds our headers, obeys the deadline and remembers the last response's status;
 * `transport` is the global fetch, or the guarded one for incoming webhooks.
 */
function deadlineFetch(
  deadline: Deadline,
  last: LastResponse,
  extraHeaders: Record<string, string>,
  transport: FetchFunction = fetch,
): FetchFunction {
  return async (url, init) => {
    const signal = init?.signal !== undefined ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    const response = await transport(url, { ...init, headers: { ...init?.headers, ...extraHeaders }, signal });
    last.status = response.status;
    last.retryAfter = response.headers.get('retry-after');
    return response;
  };
}

/** Maps whatever the Slack SDKs threw to a typed delivery error. */
export function slackDeliveryError(
  err: unknown,
  what: string,
  deadline: Deadline,
  last: LastResponse = {},
): DeliveryError {
  if (err instanceof DeliveryError) return err;
  // The SSRF guard's refusal, raised inside the connection's lookup, arrives wrapped by the webhook SDK.
  if (err instanceof IncomingWebhookRequestError && err.original instanceof DeliveryError) return err.original;
  if (err instanceof WebAPIRateLimitedError) {
    return new TransientDeliveryError(`${what} rate-limited the request; retry after ${err.retryAfter} s`, {
      code: 429,
      retryAfterMs: err.retryAfter * 1000,
      cause: err,
    });
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    if (code === 'ratelimited')
      return new TransientDeliveryError(`${what}: ratelimited`, {
        code: 429,
        cause: err,
        retryAfterMs: secondsToMs(err.data.response_metadata?.retryAfter),
      });
    if (TRANSIENT_SLACK_ERRORS.has(code)) return new TransientDeliveryError(`${what}: ${code}`, { cause: err });
    if (AUTH_SLACK_ERRORS.has(code))
      return new PermanentDeliveryError(
        `${what} rejected the bot token: ${code}; check SLACK_BOT_TOKEN and the app's scopes (chat:write)`,
        { cause: err },
      );
    if (code === 'channel_not_found' || code === 'not_in_channel' || code === 'is_archived') {
      return new PermanentDeliveryError(`${what}: ${code}; check the channel id and invite the app to the channel`, {
        cause: err,
      });
    }
    return new PermanentDeliveryError(`${what} refused the message: ${code}`, { cause: err });
  }
  if (err instanceof WebAPIHTTPError) {
    return errorForHttpStatus(
      err.statusCode,
      `${what} answered HTTP ${err.statusCode} ${err.statusMessage}`,
      err.headers['retry-after'],
    );
  }
  if (err instanceof IncomingWebhookHTTPError) {
    const body = err.body.trim().slice(0, 200);
    if (err.statusCode === 403 || err.statusCode === 404) {
      return new PermanentDeliveryError(
        `${what} answered HTTP ${err.statusCode}: ${body || err.statusMessage}; the webhook URL is wrong or was revoked`,
        { code: err.statusCode, cause: err },
      );
    }
    return errorForHttpStatus(
      err.statusCode,
      `${what} answered HTTP ${err.statusCode}: ${body || err.statusMessage}`,
      last.retryAfter,
    );
  }
  if (deadline.signal.aborted) return deadline.error(err);
  // A 429 without a usable Retry-After surfaces as a plain Error from the Web API client.
  if (last.status !== undefined && last.status !== 200 && last.status >= 400) {
    return errorForHttpStatus(last.status, `${what} answered HTTP ${last.status}`, last.retryAfter);
  }
  const original = err instanceof Error && 'original' in err && err.original instanceof Error ? err.original : err;
  return new TransientDeliveryError(`${what} failed: ${networkMessage(original)}`, { cause: err });
}

function secondsToMs(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value * 1000 : undefined;
}
