import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a `webhook-timestamp` may be from now (Standard Webhooks recommends 5 minutes). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Signing key bytes: `whsec_<base64>` secrets are base64-decoded (Standard Webhooks / Svix); others are UTF-8. */
export function signingKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/**
 * Verifies a Standard-Webhooks signature: `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>`
 * entries over `${id}.${timestamp}.${body}`. Returns a reason on failure, undefined when valid. Written separately
 * from the webhook channel's signer on purpose, so the sink checks the channel rather than mirroring it.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): string | undefined {
  const { id, timestamp, signature } = headers;
  if (id === undefined || timestamp === undefined || signature === undefined)
    return 'missing webhook-id, webhook-timestamp or webhook-signature header';
  if (!/^\d+$/.test(timestamp)) return 'webhook-timestamp is not unix seconds';
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS)
    return 'webhook-timestamp is too far from now';
  const expected = createHmac('sha256', signingKey(secret)).update(`${id}.${timestamp}.${body}`).digest();
  for (const entry of signature.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  }
  return 'no v1 signature matches';
}
