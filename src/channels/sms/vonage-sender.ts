import type { Vonage } from '@vonage/server-sdk';
import type { ChannelDeps, ChannelSender, SendContext, SendResult } from '../types.js';
import { errorForHttpStatus, PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import type { DeliveryError } from '../errors.js';
import { raceDeadline, startDeadline } from '../deadline.js';
import type { Deadline } from '../deadline.js';
import type { SmsConfig, SmsContent, SmsRecipient } from './schema.js';

/** Vonage statuses about the account, not the message: credentials (401/403), balance (402), endpoint (404/405). */
const VONAGE_PROVIDER_STATUSES = new Set([401, 402, 403, 404, 405]);

/** What the SDK rejects with for an HTTP error answer (`VetchError`): the node-fetch response is attached. */
interface VonageFailure {
  name?: string;
  message?: string;
  code?: string;
  type?: string;
  response?: { status: number; headers: { get(name: string): string | null }; text(): Promise<string> };
}

/** RFC 7807 problem body of the Messages API. */
interface VonageProblem {
  title?: string;
  detail?: string;
  invalid_parameters?: Array<{ name?: string; reason?: string }>;
}

/**
 * Builds the Vonage SMS provider: the Messages API (`POST {apiHost}/v1/messages`, basic auth with the API key and
 * secret, JSON `{ message_type: "text", channel: "sms", to, from, text, client_ref }`) through the maintained SDK
 * `@vonage/server-sdk`, whose `apiHost` option points it at the dev sink (`SMS_VONAGE_API_URL`). The SDK makes one
 * request and no retries; its own `timeout` and the deadline bound it. Returns the `message_uuid`.
 *
 * The Messages API has no idempotency key: `client_ref` carries the notification's idempotency key (it comes back in
 * Vonage's status webhooks), so a copy sent by Vonage after another provider's lost answer is traceable.
 */
export function createVonageSender(config: SmsConfig, _deps: ChannelDeps): ChannelSender<SmsRecipient, SmsContent> {
  // The SDK takes about half a second to load: imported here, so that only a process that sends through Vonage pays
  // for it (not the gateway or a workflow worker, which load the channel registry too), once, while it starts.
  const client: Promise<Vonage> = import('@vonage/server-sdk').then(
    ({ Vonage: VonageClient }) =>
      new VonageClient(
        { apiKey: config.vonageApiKey, apiSecret: config.vonageApiSecret },
        { apiHost: config.vonageApiUrl, timeout: config.timeoutMs },
      ),
  );
  // A failed import surfaces at the first send (as a transient failure); never as an unhandled rejection.
  client.catch(() => undefined);
  const what = `Vonage Messages API ${config.vonageApiUrl}`;
  // Vonage numbers are E.164 digits without the `+`; an alphanumeric sender id stays as it is.
  const from = (config.vonageFrom ?? config.from).replace(/^\+/, '');

  return {
    async send({ to, content }, ctx: SendContext): Promise<SendResult> {
      const deadline = startDeadline(config.timeoutMs, ctx.signal, what);
      try {
        const vonage = await raceDeadline(deadline, client);
        const answer = await raceDeadline(
          deadline,
          vonage.messages.send({
            messageType: 'text',
            channel: 'sms',
            to: to.replace(/^\+/, ''),
            from,
            text: content.body,
            clientRef: ctx.idempotencyKey.slice(0, 100),
          }),
        );
        if (typeof answer.messageUUID !== 'string' || answer.messageUUID === '') {
          // Accepted without an id: retrying risks a duplicate, but losing the message is worse.
          throw new TransientDeliveryError(`${what} accepted the message without a message_uuid`);
        }
        return { providerMessageId: answer.messageUUID };
      } catch (err) {
        if (err instanceof TransientDeliveryError || err instanceof PermanentDeliveryError) throw err;
        throw await vonageDeliveryError(err, what, deadline);
      } finally {
        deadline.dispose();
      }
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Classifies a Messages API failure: 401/402/403/404/405 are the account's or endpoint's fault (permanent, provider:
 * failover); 408, 429 and 5xx are transient (Retry-After honoured); 400/422 and other 4xx are about the message or the
 * recipient (permanent, no failover). Network errors and the SDK's timeout are transient.
 */
export async function vonageDeliveryError(err: unknown, what: string, deadline?: Deadline): Promise<DeliveryError> {
  if (deadline?.signal.aborted === true) return deadline.error(err);
  const f: VonageFailure = typeof err === 'object' && err !== null ? err : { message: String(err) };
  const response = f.response;
  if (response === undefined) {
    if (f.name === 'AbortError' || f.type === 'aborted')
      return new TransientDeliveryError(`${what} timed out (SDK timeout)`, { cause: err });
    return new TransientDeliveryError(`${what}: ${f.code ?? 'error'} ${f.message ?? ''}`.trim(), { cause: err });
  }
  const problem = await response
    .text()
    .then((text) => JSON.parse(text) as VonageProblem)
    .catch((): VonageProblem => ({}));
  const parts = [problem.title, problem.detail].filter((p): p is string => typeof p === 'string' && p !== '');
  const badTo = problem.invalid_parameters?.some((p) => p.name === 'to') === true;
  const message = `${what} answered HTTP ${response.status}${parts.length > 0 ? `: ${parts.join(' — ')}` : ''}${
    badTo ? ' (`to` is not a valid phone number)' : ''
  }`;
  if (VONAGE_PROVIDER_STATUSES.has(response.status)) {
    const hint =
      response.status === 402
        ? 'top up the Vonage account'
        : 'check SMS_VONAGE_API_KEY / SMS_VONAGE_API_SECRET / SMS_VONAGE_API_URL';
    return new PermanentDeliveryError(`${message}; ${hint}`, { code: response.status, cause: err, fault: 'provider' });
  }
  return errorForHttpStatus(response.status, message, response.headers.get('retry-after'));
}
