import { randomBytes } from 'node:crypto';
import { signWebhook } from '../channels/webhook/sender.js';

/** Bytes of a new endpoint signing secret (the Standard Webhooks spec asks for 24 to 64). */
const SECRET_BYTES = 32;

/** A new endpoint signing secret: `whsec_` + base64 of 32 random bytes (the Standard Webhooks format). */
export function generateEndpointSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * The `webhook-signature` value for `secrets`: one `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret,
 * space-separated (the spec's way to carry several signatures while a rotated secret is still valid). Receivers accept
 * the message when any signature matches one of their secrets.
 */
export function signatureHeader(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  return secrets.map((s) => signWebhook(s, id, timestampSeconds, body)).join(' ');
}

/** The three Standard Webhooks headers of one attempt. */
export function standardWebhookHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatureHeader(secrets, id, timestampSeconds, body),
  };
}
