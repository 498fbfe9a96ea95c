import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { ENVELOPE_VERSION } from '../shared/notification.js';
import type { NotificationRequest } from '../shared/notification.js';

/**
 * The Kafka record value for one accepted notification. Key = notification id (so all records of one notification
 * land on one partition, in order). Validated again by ingest with the same schemas as the gateway.
 */
export interface NotificationEnvelope {
  v: number;
  id: string;
  clientId: string;
  acceptedAt: string;
  /**
   * HMAC-SHA256 of the canonical request under a server key (see {@link BodyHasher}): lets the gateway tell a replay
   * from a conflicting reuse of an idempotency key, without revealing anything about the body to who sees it.
   */
  bodyHash: string;
  request: NotificationRequest;
}

/**
 * Encrypts an envelope's request for the Kafka record (src/crypto `sealRequest` bound to a keyring). The record then
 * carries `sealedRequest` ({ alg, kid, iv, ct }) instead of `request`, so recipients and content are not readable
 * from the topic, its replicas or its retained segments; ingest decrypts it with any configured key.
 */
export type RequestSealer = (notificationId: string, request: NotificationRequest, requestJson?: string) => unknown;

/** Value of the {@link HEADERS}.events header for a client without an enabled webhook endpoint. */
export const EVENTS_NONE = 'none';

/** Header names on ingress and dead-letter records. */
export const HEADERS = {
  schemaVersion: 'schema-version',
  contentType: 'content-type',
  traceparent: 'traceparent',
  /**
   * `none` when the client had no enabled webhook endpoint at acceptance: ingest then starts the workflow without
   * delivery events. Absent (older gateways): events on, as before.
   */
  events: 'notify-events',
  dlqError: 'dlq-error',
  dlqReason: 'dlq-reason',
  dlqTopic: 'dlq-original-topic',
  dlqPartition: 'dlq-original-partition',
  dlqOffset: 'dlq-original-offset',
  dlqAt: 'dlq-at',
} as const;

/**
 * JSON with object keys sorted, so that equal requests hash equally whatever the key order. For the JSON values a
 * validated request consists of (no `undefined` inside arrays, no `toJSON` objects) it is also valid JSON of the same
 * value, so the gateway encodes a request once and uses the result both for the hash and as the record's payload.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, exactly like the `<` comparison used before.
    const keys = Object.keys(record).sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      const v = record[k];
      if (v === undefined) continue;
      out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
      first = false;
    }
    return `${out}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of an already canonical request JSON (see {@link canonicalJson}); plain, see {@link hashRequest}. */
export function hashCanonicalJson(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

/**
 * Plain SHA-256 of a request body. Only for records written before body hashes were keyed, and for tests without
 * payload keys: a plain hash of a guessable body (a known template and address) can be confirmed by anyone.
 */
export function hashRequest(request: NotificationRequest): string {
  return hashCanonicalJson(canonicalJson(request));
}

/** HKDF purpose of the body-hash keys derived from the payload keys. */
export const BODY_HASH_PURPOSE = 'notify.idempotency-hash.v1';

/**
 * Keyed body hashes for idempotency (HMAC-SHA256 under keys derived from the payload keys), so a hash seen in a Kafka
 * record or a Temporal memo reveals nothing about the body. New hashes use the current key; `matches` also accepts
 * hashes under the other configured keys (key rotation) and legacy plain SHA-256 hashes, so a replay keeps being
 * recognised as one. Without keys (unit tests) it falls back to plain SHA-256.
 */
export class BodyHasher {
  private readonly keys: readonly Buffer[];

  constructor(keys: ReadonlyArray<{ key: Buffer }> = []) {
    this.keys = keys.map((k) => k.key);
  }

  /** The hash written with a new notification. */
  hash(request: NotificationRequest): string {
    return this.hashCanonical(canonicalJson(request));
  }

  /** {@link hash} of a request already encoded with {@link canonicalJson} (the gateway encodes each request once). */
  hashCanonical(json: string): string {
    const key = this.keys[0];
    return key === undefined ? hashCanonicalJson(json) : createHmac('sha256', key).update(json).digest('hex');
  }

  /** Whether `known` (from an earlier acceptance) is a hash of `request` under any configured key, or its legacy hash. */
  matches(known: string, request: NotificationRequest): boolean {
    const canonical = canonicalJson(request);
    const candidates = [
      ...this.keys.map((key) => createHmac('sha256', key).update(canonical).digest('hex')),
      hashCanonicalJson(canonical),
    ];
    const given = Buffer.from(known, 'utf8');
    return candidates.some((c) => c.length === known.length && timingSafeEqual(Buffer.from(c, 'utf8'), given));
  }
}

/**
 * Serialises an envelope into a Kafka message (key, value, headers); with `seal`, the request is encrypted.
 * `requestJson` is the request's {@link canonicalJson} when the caller already has it (the gateway computed it for the
 * body hash): it is then used as is, so the request is JSON-encoded once per record, not once more here.
 */
export function encodeEnvelope(
  envelope: NotificationEnvelope,
  traceparent?: string,
  seal?: RequestSealer,
  requestJson?: string,
  options: { withoutEvents?: boolean } = {},
): { key: string; value: string; headers: IHeaders } {
  const headers: IHeaders = {
    [HEADERS.schemaVersion]: String(ENVELOPE_VERSION),
    [HEADERS.contentType]: 'application/json',
  };
  if (traceparent !== undefined) headers[HEADERS.traceparent] = traceparent;
  if (options.withoutEvents === true) headers[HEADERS.events] = EVENTS_NONE;
  const { request, ...rest } = envelope;
  if (seal === undefined) {
    if (requestJson === undefined) return { key: envelope.id, value: JSON.stringify(envelope), headers };
    // `rest` always has fields, so its JSON ends in `}` after at least one member.
    return { key: envelope.id, value: `${JSON.stringify(rest).slice(0, -1)},"request":${requestJson}}`, headers };
  }
  return {
    key: envelope.id,
    value: JSON.stringify({ ...rest, sealedRequest: seal(envelope.id, request, requestJson) }),
    headers,
  };
}
