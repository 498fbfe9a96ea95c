import { createRequire } from 'node:module';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type * as protos from '@temporalio/proto';
import type { PayloadKeyring } from './keyring.js';

/** `encoding` metadata of payloads this codec produced (the convention of Temporal's encryption samples). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key that encrypted a payload, so any configured key can decrypt it after rotation. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** Metadata key naming the cipher, for operators reading raw history. */
export const CIPHER_METADATA = 'encryption-cipher';

// @temporalio/proto is CommonJS whose exports Node's ESM loader cannot name statically: load it with require().
const { temporal } = createRequire(import.meta.url)('@temporalio/proto') as typeof protos;

const IV_BYTES = 12;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Temporal `PayloadCodec` that encrypts every payload (workflow input, results, query answers, memo, failure details)
 * with AES-256-GCM before it leaves the process, so Temporal's history holds no personal data. The whole original
 * payload (metadata + data) is serialised as protobuf and encrypted; the outer payload carries the key id in clear.
 * Payloads without the encrypted encoding pass through unchanged on decode (history written before encryption).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keyring: PayloadKeyring) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(
      payloads.map((payload) => {
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const sealed = this.keyring.seal(plain);
        return {
          metadata: {
            encoding: utf8.encode(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: utf8.encode(sealed.keyId),
            [CIPHER_METADATA]: utf8.encode('AES-256-GCM'),
          },
          data: Buffer.concat([sealed.iv, sealed.ciphertext]),
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(
      payloads.map((payload) => {
        const encoding = payload.metadata?.encoding;
        if (encoding === undefined || encoding === null || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING)
          return payload;
        const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
        if (keyIdBytes === undefined || keyIdBytes === null)
          throw new Error(`encrypted payload has no ${KEY_ID_METADATA} metadata`);
        const data = Buffer.from(payload.data ?? new Uint8Array());
        const plain = this.keyring.open({
          keyId: fromUtf8.decode(keyIdBytes),
          iv: data.subarray(0, IV_BYTES),
          ciphertext: data.subarray(IV_BYTES),
        });
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }
}
