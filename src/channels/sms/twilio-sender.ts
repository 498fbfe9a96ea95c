import type { ChannelDeps, ChannelSender, SendContext, SendResult } from '../types.js';
import { asProviderFault, TransientDeliveryError } from '../errors.js';
import { startDeadline } from '../deadline.js';
import { idempotencyHeaders, postForAnswer } from '../http.js';
import type { SmsConfig, SmsContent, SmsRecipient } from './schema.js';

/** Twilio statuses about the account, not the message: credentials refused (401/403), unknown account (404). */
const TWILIO_PROVIDER_STATUSES = [401, 403, 404];

/**
 * Builds the Twilio-compatible SMS provider: `POST {baseUrl}/2010-04-01/Accounts/{sid}/Messages.json` with basic auth
 * and form fields `To`, `From` (or `MessagingServiceSid`) and `Body`. Returns the message `sid`.
 *
 * Twilio has no idempotency key for message creation; `Idempotency-Key` / `X-Notification-Id` are still sent (compatible
 * gateways and the dev sink use them), and the returned sid makes a duplicate traceable. A refused credential or an
 * unknown account is a provider fault (failover to the next SMS provider); other 4xx answers are about the message.
 */
export function createTwilioSender(config: SmsConfig, _deps: ChannelDeps): ChannelSender<SmsRecipient, SmsContent> {
  const url = `${config.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`;
  const what = `SMS provider ${config.baseUrl}`;

  return {
    async send({ to, content }, ctx: SendContext): Promise<SendResult> {
      const form = new URLSearchParams({ To: to, Body: content.body });
      if (config.messagingServiceSid !== undefined) form.set('MessagingServiceSid', config.messagingServiceSid);
      else form.set('From', config.from);
      const deadline = startDeadline(config.timeoutMs, ctx.signal, what);
      try {
        const answer = await postForAnswer(
          url,
          {
            headers: {
              Authorization: authorization,
              'Content-Type': 'application/x-www-form-urlencoded',
              Accept: 'application/json',
              ...idempotencyHeaders(ctx),
            },
            body: form.toString(),
          },
          deadline,
          what,
        );
        const sid = (answer.json as { sid?: unknown } | undefined)?.sid;
        if (typeof sid !== 'string' || sid === '') {
          // Accepted without a sid: unusual. Retrying risks a duplicate, but losing the message is worse.
          throw new TransientDeliveryError(`${what} answered HTTP ${answer.status} without a message sid`, {
            code: answer.status,
          });
        }
        return { providerMessageId: sid };
      } catch (err) {
        throw asProviderFault(err, TWILIO_PROVIDER_STATUSES);
      } finally {
        deadline.dispose();
      }
    },
    close: () => Promise.resolve(),
  };
}
