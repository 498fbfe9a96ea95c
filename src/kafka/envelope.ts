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

/** Hash of a request body, used for idempotency replay detection. */
export function hashRequest(request: NotificationRequest): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
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
