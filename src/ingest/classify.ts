import type { KafkaMessage } from 'kafkajs';
import { openRequest, sealedRequestSchema } from '../crypto/envelope-sealing.js';
import type { PayloadKeyring } from '../crypto/keyring.js';
import { envelopeSchema } from '../schemas/notification.js';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import { issuesFromZod } from '../schemas/issues.js';

/** A record ingest can start a workflow for. */
export interface ValidRecord {
  kind: 'valid';
  envelope: NotificationEnvelope;
}

/** A record that can never be processed: it goes to the dead-letter topic. */
export interface PoisonRecord {
  kind: 'poison';
  reason: 'oversized' | 'not-json' | 'invalid-schema' | 'key-mismatch' | 'empty' | 'undecryptable';
  error: string;
}

/**
 * Decides whether a Kafka record is a processable notification envelope. Pure and synchronous: poison records are
 * recognised before any side effect, so they can be dead-lettered and skipped without a crash loop.
 */
export function classifyRecord(
  message: Pick<KafkaMessage, 'key' | 'value'>,
  maxBytes: number,
  keyring?: PayloadKeyring,
): ValidRecord | PoisonRecord {
  const value = message.value;
  if (value === null || value.length === 0) return { kind: 'poison', reason: 'empty', error: 'record has no value' };
  if (value.length > maxBytes)
    return {
      kind: 'poison',
      reason: 'oversized',
      error: `record is ${value.length} bytes; the limit is ${maxBytes} (INGEST_MAX_RECORD_BYTES)`,
    };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return {
      kind: 'poison',
      reason: 'not-json',
      error: `value is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const opened = openSealedRequest(json, keyring);
  if (opened.kind === 'poison') return opened;
  const parsed = envelopeSchema.safeParse(opened.value);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues);
    return {
      kind: 'poison',
      reason: 'invalid-schema',
      error: issues
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')
        .slice(0, 2000),
    };
  }
  const key = message.key?.toString('utf8');
  if (key !== undefined && key !== parsed.data.id) {
    return {
      kind: 'poison',
      reason: 'key-mismatch',
      error: `record key ${JSON.stringify(key.slice(0, 64))} differs from envelope id ${parsed.data.id}`,
    };
  }
  return { kind: 'valid', envelope: parsed.data };
}

/**
 * Replaces an encrypted `sealedRequest` by the decrypted `request` (records written by a gateway with PAYLOAD_KEYS).
 * A record that cannot be decrypted (key id not configured, wrong key, tampered) is poison: it goes to the DLQ with
 * its ciphertext intact, so it can be replayed once the missing key is added to PAYLOAD_KEYS.
 */
function openSealedRequest(
  json: unknown,
  keyring: PayloadKeyring | undefined,
): { kind: 'opened'; value: unknown } | PoisonRecord {
  if (json === null || typeof json !== 'object' || !('sealedRequest' in json)) return { kind: 'opened', value: json };
  const { sealedRequest, ...rest } = json as Record<string, unknown>;
  if ('request' in rest)
    return { kind: 'poison', reason: 'invalid-schema', error: 'record has both request and sealedRequest' };
  const sealed = sealedRequestSchema.safeParse(sealedRequest);
  if (!sealed.success) {
    return {
      kind: 'poison',
      reason: 'invalid-schema',
      error: issuesFromZod(sealed.error.issues, 'sealedRequest')
        .map((i) => `${i.path}: ${i.message}`)
        .join('; '),
    };
  }
  if (typeof rest.id !== 'string')
    return { kind: 'poison', reason: 'invalid-schema', error: 'id: required (string) to decrypt sealedRequest' };
  if (keyring === undefined)
    return {
      kind: 'poison',
      reason: 'undecryptable',
      error: 'record is encrypted but ingest has no payload keys (PAYLOAD_KEYS)',
    };
  try {
    return { kind: 'opened', value: { ...rest, request: openRequest(keyring, rest.id, sealed.data) } };
  } catch (err) {
    return {
      kind: 'poison',
      reason: 'undecryptable',
      error: `sealedRequest: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
