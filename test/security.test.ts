import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatApiKeyEntry, generateApiKey } from '../src/auth/api-keys.js';
import { AesGcmPayloadCodec } from '../src/crypto/payload-codec.js';
import { readTopic } from './helpers/kafka.js';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline } from './helpers/pipeline.js';

/**
 * Personal data and access control through the real pipeline (HTTP → Kafka → ingest → Temporal → workers → sinks):
 * recipients and content marked with sentinels must not appear in Temporal's raw history (payloads, failures, memo,
 * search attributes), in the Kafka records, or in any log line; another client's key cannot see the notifications.
 */
const tag = randomBytes(6).toString('hex');
const SENTINEL_EMAIL = `pii-${tag}@sentinel.example`;
const SENTINEL_FAILING_EMAIL = `pii-fail-${tag}@sentinel.example`;
const SENTINEL_PHONE = `+1415555${String(parseInt(tag.slice(0, 4), 16) % 10_000).padStart(4, '0')}`;
const SENTINEL_BODY = `SENTINEL-BODY-${tag}`;
const SENTINELS = [SENTINEL_EMAIL, SENTINEL_FAILING_EMAIL, SENTINEL_PHONE, SENTINEL_BODY, tag];

const intruderKey = generateApiKey();
const logLines: string[] = [];
let p: Pipeline;
let sentId: string;
let fallbackId: string;

beforeAll(async () => {
  p = await startPipeline({
    env: { API_KEYS: formatApiKeyEntry('intruder', ['send', 'read', 'admin'], intruderKey) },
    logDestination: { write: (line: string) => void logLines.push(line) },
  });
  p.sinks.setFaults([{ channel: 'email', recipient: SENTINEL_FAILING_EMAIL, fault: 'smtp550' }]);
  const sent = await p.post('/v1/notifications', {
    deliveries: [
      {
        channel: 'email',
        to: SENTINEL_EMAIL,
        content: { subject: `Subject ${SENTINEL_BODY}`, text: `Hello ${SENTINEL_BODY}` },
      },
    ],
    metadata: { note: SENTINEL_BODY },
  });
  expect(sent.status).toBe(202);
  sentId = String(sent.body.id);
  // A permanent failure first: its error becomes an ActivityTaskFailed failure in history.
  const fallback = await p.post('/v1/notifications', {
    routing: 'fallback',
    deliveries: [
      { channel: 'email', to: SENTINEL_FAILING_EMAIL, content: { subject: 'x', text: SENTINEL_BODY } },
      { channel: 'sms', to: SENTINEL_PHONE, content: { body: SENTINEL_BODY } },
    ],
  });
  expect(fallback.status).toBe(202);
  fallbackId = String(fallback.body.id);
  await p.waitForStatus(sentId, 'sent');
  const fell = await p.waitForStatus(fallbackId, 'sent');
  expect(fell.deliveries.map((d) => d.status)).toEqual(['failed', 'sent']);
});
afterAll(async () => {
  await p?.close();
});

/** Every string and byte sequence in a (protobuf) object, so nothing escapes the search. */
function collect(value: unknown, out: Buffer[] = [], seen = new Set<unknown>()): Buffer[] {
  if (value === null || value === undefined || seen.has(value)) return out;
  if (typeof value === 'string') out.push(Buffer.from(value, 'utf8'));
  else if (value instanceof Uint8Array) out.push(Buffer.from(value));
  else if (typeof value === 'object') {
    seen.add(value);
    for (const v of Object.values(value as Record<string, unknown>)) collect(v, out, seen);
  }
  return out;
}

const containing = (chunks: Buffer[]) => SENTINELS.filter((s) => chunks.some((c) => c.includes(s)));

async function rawHistory(id: string) {
  return p.client.workflowService.getWorkflowExecutionHistory({
    namespace: p.config.TEMPORAL_NAMESPACE,
    execution: { workflowId: id },
  });
}

describe('personal data at rest', () => {
  it('the sinks really received the sentinel data (the searches below can find it)', () => {
    expect(JSON.stringify(p.sinks.received({ notificationId: sentId }))).toContain(SENTINEL_BODY);
    expect(JSON.stringify(p.sinks.received({ notificationId: fallbackId }))).toContain(SENTINEL_PHONE);
  });

  it('raw Temporal history holds no sentinel in payloads, failures, memo or search attributes', async () => {
    for (const id of [sentId, fallbackId]) {
      const history = await rawHistory(id);
      expect(history.history?.events?.length ?? 0).toBeGreaterThan(3);
      expect(containing(collect(history))).toEqual([]);
      const description = await p.client.workflowService.describeWorkflowExecution({
        namespace: p.config.TEMPORAL_NAMESPACE,
        execution: { workflowId: id },
      });
      expect(containing(collect(description))).toEqual([]);
    }
  });

  it('encrypts the failure message of a failed delivery and every payload with the configured key', async () => {
    const events = (await rawHistory(fallbackId)).history?.events ?? [];
    const failures = events
      .map((e) => e.activityTaskFailedEventAttributes?.failure)
      .filter((f) => f !== undefined && f !== null);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.encodedAttributes?.metadata?.['encryption-key-id']).toBeDefined();
    }
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const input = started?.input?.payloads ?? [];
    expect(Buffer.from(input[0]?.metadata?.encoding ?? new Uint8Array()).toString()).toBe('binary/encrypted');
    // Positive control: with the key, the same history payload decrypts to the sentinel.
    const [decoded] = await new AesGcmPayloadCodec(p.keyring).decode(
      input.map((x) => ({ metadata: x.metadata ?? {}, data: x.data ?? new Uint8Array() })),
    );
    expect(Buffer.from(decoded?.data ?? new Uint8Array()).toString()).toContain(SENTINEL_PHONE);
  });

  it('Kafka records carry the request encrypted', async () => {
    const records = await readTopic(p.config.KAFKA_BROKERS ?? [], p.config.KAFKA_TOPIC, 2);
    expect(records.map((r) => r.key?.toString()).sort()).toEqual([sentId, fallbackId].sort());
    expect(containing(records.map((r) => r.value ?? Buffer.alloc(0)))).toEqual([]);
    expect(JSON.parse(records[0]?.value?.toString() ?? '{}')).toHaveProperty(
      'sealedRequest.kid',
      p.keyring.currentKeyId,
    );
  });

  it('scrubs the address the SMTP server quoted in its rejection from the failed attempt’s log line', async () => {
    // Positive control: the server really echoed the address (the owner sees it in the decrypted status).
    const status = (await p.status(fallbackId)) as unknown as {
      deliveries: Array<{ lastError?: { message: string } }>;
    };
    expect(status.deliveries[0]?.lastError?.message).toContain(SENTINEL_FAILING_EMAIL);
    const failed = logLines.filter((l) => l.includes('delivery attempt failed') && l.includes(fallbackId));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((l) => l.includes('[redacted email]') && !l.includes(SENTINEL_FAILING_EMAIL))).toBe(true);
  });

  it('no log line of the gateway, ingest or workers contains the sentinel data', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(containing(logLines.map((l) => Buffer.from(l)))).toEqual([]);
  });

  it('the status API still shows the owner the decrypted details', async () => {
    const status = await p.status(sentId);
    expect(status.status).toBe('sent');
    expect(status.metadata).toEqual({ note: SENTINEL_BODY });
  });
});

describe('access control on the real pipeline', () => {
  it('another client’s key gets 404 for status, cancel and retry of the notification', async () => {
    const auth = { authorization: `Bearer ${intruderKey}` };
    expect((await fetch(`${p.url}/v1/notifications/${sentId}`, { headers: auth })).status).toBe(404);
    for (const action of ['cancel', 'retry']) {
      expect(
        (await fetch(`${p.url}/v1/notifications/${fallbackId}/${action}`, { method: 'POST', headers: auth })).status,
      ).toBe(404);
    }
  });

  it('a request without a key gets 401', async () => {
    const res = await p.post(
      '/v1/notifications',
      { deliveries: [{ channel: 'email', to: 'x@example.com', content: { subject: 's', text: 't' } }] },
      { authorization: '' },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="notify"');
  });
});
