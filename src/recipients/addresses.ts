import type { PermanentDeliveryError } from '../channels/errors.js';

/**
 * The canonical address strings of a delivery's `to`, as suppressions store them: lower-cased email addresses (one
 * per entry of a list), the E.164 number, the Slack channel or webhook URL, the webhook URL.
 */
export function addressKeys(channel: string, to: unknown): string[] {
  if (channel === 'email') {
    const list = Array.isArray(to) ? to : [to];
    return list.filter((a): a is string => typeof a === 'string').map((a) => a.trim().toLowerCase());
  }
  if (typeof to === 'string') return [to.trim()];
  if (typeof to === 'object' && to !== null) {
    const o = to as Record<string, unknown>;
    for (const field of ['url', 'channel', 'webhookUrl']) {
      if (typeof o[field] === 'string') return [o[field]];
    }
  }
  return [JSON.stringify(to)];
}

/** `to` without the suppressed addresses (email lists); undefined when nothing is left to send to. */
export function withoutSuppressed(channel: string, to: unknown, suppressed: ReadonlySet<string>): unknown {
  if (suppressed.size === 0) return to;
  if (channel === 'email' && Array.isArray(to)) {
    const left = (to as string[]).filter((a) => !suppressed.has(a.trim().toLowerCase()));
    return left.length > 0 ? left : undefined;
  }
  return addressKeys(channel, to).some((k) => suppressed.has(k)) ? undefined : to;
}

/**
 * Whether a permanent failure says the address itself is bad (so sending to it again can only fail): SMTP 550–553
 * (mailbox unavailable / not allowed), Slack `channel_not_found` / `is_archived` / `user_not_found`, an SMS provider's
 * invalid or unreachable number (Twilio 21211, 21214, 21614), a webhook endpoint answering 404 or 410.
 */
export function isAddressFailure(channel: string, err: PermanentDeliveryError): boolean {
  const message = err.message;
  switch (channel) {
    case 'email':
      return err.code !== undefined && err.code >= 550 && err.code <= 553;
    case 'slack':
      return /channel_not_found|is_archived|user_not_found|no_service/.test(message);
    case 'sms':
      return /\b(21211|21214|21614)\b|not a valid phone number|unknown number/i.test(message);
    case 'webhook':
      return err.code === 404 || err.code === 410;
    default:
      return false;
  }
}
