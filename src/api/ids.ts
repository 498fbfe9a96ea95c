import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';

const ID_PREFIX = 'ntf_';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * Notification id derived from a client's idempotency key: a hash scoped by the client, so two clients using the same
 * key never collide, and the key (which might contain PII) never appears in the id, Kafka key or workflow id.
 */
export function idFromIdempotencyKey(clientId: string, key: string): string {
  const digest = createHash('sha256').update(clientId).update('\u0000').update(key).digest();
  return `${ID_PREFIX}${base32(digest, 26)}`;
}

/** A fresh, time-ordered notification id for requests without an idempotency key. */
export function newNotificationId(): string {
  return `${ID_PREFIX}${uuidv7().replaceAll('-', '')}`;
}

/** Whether a path parameter looks like one of our ids (cheap 404 before asking Temporal). */
export function isNotificationId(value: string): boolean {
  return /^ntf_[a-z2-7]{26}$|^ntf_[0-9a-f]{32}$/.test(value);
}
