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
export type RequestSealer = (notificationId: string, request: NotificationRequest) => unknown;

/** Header names on ingress and dead-letter records. */
export const HEADERS = {
  schemaVersion: 'schema-version',
  contentType: 'content-type',
  traceparent: 'traceparent',
  dlqError: 'dlq-error',
  dlqReason: 'dlq-reason',
  dlqTopic: 'dlq-original-topic',
  dlqPartition: 'dlq-original-partition',
  dlqOffset: 'dlq-original-offset',
  dlqAt: 'dlq-at',
} as const;

/** JSON with object keys sorted, so that equal requests hash equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Plain SHA-256 of a request body. Only for records written before body hashes were keyed, and for tests without
 * payload keys: a plain hash of a guessable body (a known template and address) can be confirmed by anyone.
 */
export function hashRequest(request: NotificationRequest): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
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
    const key = this.keys[0];
    return key === undefined ? hashRequest(request) : createHmac('sha256', key).update(canonicalJson(request)).digest('hex');
  }

  /** Whether `known` (from an earlier acceptance) is a hash of `request` under any configured key, or its legacy hash. */
  matches(known: string, request: NotificationRequest): boolean {
    const canonical = canonicalJson(request);
    const candidates = [...this.keys.map((key) => createHmac('sha256', key).update(canonical).digest('hex')), createHash('sha256').update(canonical).digest('hex')];
    const given = Buffer.from(known, 'utf8');
    return candidates.some((c) => c.length === known.length && timingSafeEqual(Buffer.from(c, 'utf8'), given));
  }
}

/** Serialises an envelope into a Kafka message (key, value, headers); with `seal`, the request is encrypted. */
export function encodeEnvelope(envelope: NotificationEnvelope, traceparent?: string, seal?: RequestSealer): { key: string; value: string; headers: IHeaders } {
  const headers: IHeaders = {
    [HEADERS.schemaVersion]: String(ENVELOPE_VERSION),
    [HEADERS.contentType]: 'application/json',
  };
  if (traceparent !== undefined) headers[HEADERS.traceparent] = traceparent;
  if (seal === undefined) return { key: envelope.id, value: JSON.stringify(envelope), headers };
  const { request, ...rest } = envelope;
  return { key: envelope.id, value: JSON.stringify({ ...rest, sealedRequest: seal(envelope.id, request) }), headers };
}
