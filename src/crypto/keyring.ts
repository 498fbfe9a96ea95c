import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Bytes of CSPRNG output fetched at once for IVs (341 IVs). */
const IV_POOL_BYTES = 4_092;

/** AES-256-GCM parameters: 32-byte keys, 12-byte random IVs, 16-byte authentication tags. */
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Output of {@link PayloadKeyring.seal}: which key encrypted it, the IV and `ciphertext ‖ tag`. */
export interface Sealed {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
}

/**
 * Thrown when data cannot be decrypted: unknown key id (a key was removed from PAYLOAD_KEYS too early) or a failed
 * authentication tag (wrong key, tampering). The message names the setting to fix and never includes plaintext.
 */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/**
 * Parses `PAYLOAD_KEYS`: `kid:<base64 of 32 bytes>` entries separated by commas. Throws with a message naming the
 * entry at fault (never echoing key material) so configuration errors are obvious.
 */
export function parsePayloadKeys(spec: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) throw new Error('expected at least one `kid:<base64 32 bytes>` entry');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const kid = colon < 0 ? '' : entry.slice(0, colon);
    if (!KEY_ID_PATTERN.test(kid)) {
      throw new Error(
        `entry ${index + 1}: expected \`kid:<base64 32 bytes>\` with a key id of letters, digits, '.', '_' or '-' (generate one with \`npm run keys -- payload-key <kid>\`)`,
      );
    }
    const material = Buffer.from(entry.slice(colon + 1), 'base64');
    if (material.length !== KEY_BYTES) {
      throw new Error(
        `key ${kid}: must be ${KEY_BYTES} bytes of base64 (got ${material.length}); generate one with \`npm run keys -- payload-key ${kid}\``,
      );
    }
    if (keys.has(kid)) throw new Error(`key id ${kid} appears twice`);
    keys.set(kid, material);
  });
  return keys;
}

/** A new random `kid:<base64>` entry for PAYLOAD_KEYS. */
export function generatePayloadKeyEntry(keyId: string): string {
  if (!KEY_ID_PATTERN.test(keyId))
    throw new Error(`key id ${JSON.stringify(keyId)} must be 1-64 letters, digits, '.', '_' or '-'`);
  return `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * The symmetric keys that protect personal data at rest (Temporal payloads, Kafka records). Encrypts with the current
 * key and decrypts with any configured key, so keys rotate without downtime: add the new key everywhere, switch the
 * current id, and remove the old key only once nothing encrypted with it is still retained.
 */
export class PayloadKeyring {
  private readonly keys: ReadonlyMap<string, Buffer>;
  /**
   * Random bytes drawn from the CSPRNG in blocks and handed out once each as IVs: one `randomBytes` call per
   * {@link IV_POOL_BYTES} instead of one per record (each call costs a binding round trip, visible in the gateway's
   * CPU profile). Every IV is still fresh CSPRNG output, never reused.
   */
  private ivPool = Buffer.alloc(0);
  /** The current key imported once as a KeyObject: `createCipheriv` with a raw Buffer imports it on every call. */
  private readonly currentKey: KeyObject;
  private ivOffset = 0;

  constructor(
    keys: ReadonlyMap<string, Buffer>,
    readonly currentKeyId: string,
  ) {
    if (!keys.has(currentKeyId))
      throw new Error(
        `current key id ${currentKeyId} is not among the configured keys (${[...keys.keys()].join(', ')})`,
      );
    for (const [kid, key] of keys) {
      if (key.length !== KEY_BYTES) throw new Error(`key ${kid} must be ${KEY_BYTES} bytes`);
    }
    this.keys = new Map(keys);
    this.currentKey = createSecretKey(this.keys.get(currentKeyId) as Buffer);
  }

  /** Builds a keyring from PAYLOAD_KEYS / PAYLOAD_KEY_ID syntax; the current id may be omitted when there is one key. */
  static fromSpec(spec: string, currentKeyId?: string): PayloadKeyring {
    const keys = parsePayloadKeys(spec);
    const current = currentKeyId ?? (keys.size === 1 ? [...keys.keys()][0] : undefined);
    if (current === undefined)
      throw new Error('several keys are configured: set PAYLOAD_KEY_ID to the one that encrypts new data');
    return new PayloadKeyring(keys, current);
  }

  /**
   * A 32-byte key for another purpose (e.g. `notify.idempotency-hash.v1`) derived from each configured key with
   * HKDF-SHA256, current key first: never the encryption key itself, and rotating with the payload keys.
   */
  derivedKeys(purpose: string): Array<{ keyId: string; key: Buffer }> {
    const ids = [this.currentKeyId, ...this.keyIds.filter((id) => id !== this.currentKeyId)];
    return ids.map((keyId) => ({
      keyId,
      key: Buffer.from(hkdfSync('sha256', this.keys.get(keyId) as Buffer, Buffer.alloc(0), purpose, KEY_BYTES)),
    }));
  }

  /** Key ids this keyring can decrypt. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Encrypts with the current key. `aad` (additional authenticated data) binds the ciphertext to its context. */
  seal(plaintext: Uint8Array, aad?: Uint8Array): Sealed {
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.currentKey, iv, { authTagLength: TAG_BYTES });
    if (aad !== undefined) cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { keyId: this.currentKeyId, iv, ciphertext };
  }

  private nextIv(): Buffer {
    if (this.ivOffset + IV_BYTES > this.ivPool.length) {
      this.ivPool = randomBytes(IV_POOL_BYTES);
      this.ivOffset = 0;
    }
    // A copy: the pool block is replaced, never rewritten, but callers keep the IV beyond the next refill.
    const iv = Buffer.from(this.ivPool.subarray(this.ivOffset, this.ivOffset + IV_BYTES));
    this.ivOffset += IV_BYTES;
    return iv;
  }

  /** Decrypts data sealed by any configured key; throws {@link DecryptionError} when that is impossible. */
  open(sealed: Sealed, aad?: Uint8Array): Buffer {
    const key = this.keys.get(sealed.keyId);
    if (key === undefined) {
      throw new DecryptionError(
        `data was encrypted with key id ${JSON.stringify(sealed.keyId)}, which is not in PAYLOAD_KEYS (configured: ${this.keyIds.join(', ')}); add that key back to decrypt it`,
      );
    }
    if (sealed.iv.length !== IV_BYTES || sealed.ciphertext.length < TAG_BYTES)
      throw new DecryptionError('encrypted data is truncated or malformed');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
    if (aad !== undefined) decipher.setAAD(aad);
    decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new DecryptionError(
        `authentication failed for data encrypted with key id ${sealed.keyId}: the key material differs from the one that encrypted it, or the data was altered`,
      );
    }
  }
}
