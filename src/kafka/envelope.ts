import { createHash } from 'node:crypto';
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
  /** SHA-256 of the canonical request: lets ingest and the gateway tell a replay from a conflicting reuse of a key. */
  bodyHash: string;
  request: NotificationRequest;
}

/**
 * Encrypts an envelope's request for the Kafka record (src/crypto `sealRequest` bound to a keyring). The record then
 * carries `sealedRequest` ({ alg, kid, iv, ct }) instead of `request`, so recipients and content are not readable
 * from the topic, its replicas or its retained segments; ingest decrypts it with any configured key.
 */
export type RequestSealer = (notificationId: string, request: NotificationRequest, requestJson?: string) => unknown;

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

/** SHA-256 (hex) of an already canonical request JSON (see {@link canonicalJson}). */
export function hashCanonicalJson(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

/** Hash of a request body, used for idempotency replay detection. */
export function hashRequest(request: NotificationRequest): string {
  return hashCanonicalJson(canonicalJson(request));
}

/**
 * Serialises an envelope into a Kafka message (key, value, headers); with `seal`, the request is encrypted.
 * `requestJson` is the request's {@link canonicalJson} when the caller already has it (the gateway computed it for the
 * body hash): it is then used as is, so the request is JSON-encoded once per record, not once more here.
 */
export function encodeEnvelope(envelope: NotificationEnvelope, traceparent?: string, seal?: RequestSealer, requestJson?: string): { key: string; value: string; headers: IHeaders } {
  const headers: IHeaders = {
    [HEADERS.schemaVersion]: String(ENVELOPE_VERSION),
    [HEADERS.contentType]: 'application/json',
  };
  if (traceparent !== undefined) headers[HEADERS.traceparent] = traceparent;
  const { request, ...rest } = envelope;
  if (seal === undefined) {
    if (requestJson === undefined) return { key: envelope.id, value: JSON.stringify(envelope), headers };
    // `rest` always has fields, so its JSON ends in `}` after at least one member.
    return { key: envelope.id, value: `${JSON.stringify(rest).slice(0, -1)},"request":${requestJson}}`, headers };
  }
  return { key: envelope.id, value: JSON.stringify({ ...rest, sealedRequest: seal(envelope.id, request, requestJson) }), headers };
}
