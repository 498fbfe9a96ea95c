import { z } from 'zod';
import type { PayloadKeyring } from './keyring.js';

/** The encrypted `request` of a Kafka envelope (field `sealedRequest`): key id, IV and `ciphertext ‖ tag`, base64. */
export interface SealedRequest {
  alg: 'A256GCM';
  kid: string;
  iv: string;
  ct: string;
}

/** Shape check of a {@link SealedRequest} read from Kafka. */
export const sealedRequestSchema = z.strictObject({
  alg: z.literal('A256GCM', 'unsupported sealedRequest.alg'),
  kid: z.string().min(1).max(64),
  iv: z.base64(),
  ct: z.base64(),
});

const aadFor = (notificationId: string) => Buffer.from(`notify.envelope.v1:${notificationId}`, 'utf8');

/**
 * Encrypts a notification request (recipients, content) for the Kafka record. The notification id is authenticated
 * with it (AAD), so a ciphertext copied into another record does not decrypt. `requestJson`, when given, is the
 * request already encoded as JSON (the gateway's canonical encoding) and is encrypted as is.
 */
export function sealRequest(
  keyring: PayloadKeyring,
  notificationId: string,
  request: unknown,
  requestJson?: string,
): SealedRequest {
  const sealed = keyring.seal(Buffer.from(requestJson ?? JSON.stringify(request), 'utf8'), aadFor(notificationId));
  return {
    alg: 'A256GCM',
    kid: sealed.keyId,
    iv: sealed.iv.toString('base64'),
    ct: sealed.ciphertext.toString('base64'),
  };
}

/** Decrypts a sealed request back to its JSON value (validated by the caller). Throws `DecryptionError`. */
export function openRequest(keyring: PayloadKeyring, notificationId: string, sealed: SealedRequest): unknown {
  const plain = keyring.open(
    { keyId: sealed.kid, iv: Buffer.from(sealed.iv, 'base64'), ciphertext: Buffer.from(sealed.ct, 'base64') },
    aadFor(notificationId),
  );
  return JSON.parse(plain.toString('utf8')) as unknown;
}
