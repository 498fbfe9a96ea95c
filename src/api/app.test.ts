import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testLogger } from '../../test/helpers/kafka.js';
import { loadConfig } from '../config/config.js';
import type { OutgoingMessage } from '../kafka/batching-producer.js';
import type { NotificationLookup } from '../temporal/notification-client.js';
import { buildApp } from './app.js';
import type { GatewayDeps } from './types.js';

/**
 * Gateway behaviour with in-memory fakes for Kafka and Temporal (the pipeline tests run it against the real ones).
 */
const written: OutgoingMessage[] = [];
let failWrites = false;
let writeDelayMs = 0;
let lookupDelayMs = 0;
const workflows = new Map<string, NotificationLookup>();
const signals: string[] = [];

const deps: GatewayDeps = {
  config: loadConfig({ HTTP_BODY_LIMIT_BYTES: '4096', BATCH_MAX_ITEMS: '5' }),
  logger: testLogger,
  // Authentication has its own tests (src/api/plugins/auth.test.ts); here every caller is the anonymous client.
  auth: { disabled: true },
  producer: {
    isConnected: () => !failWrites,
    send: async (m) => {
      if (writeDelayMs > 0) await new Promise((r) => setTimeout(r, writeDelayMs));
      if (failWrites) throw new Error('broker down');
      written.push(m);
    },
  },
  notifications: {
    lookup: (id) => Promise.resolve(workflows.get(id)),
    memo: async (id) => {
      if (lookupDelayMs > 0) await new Promise((r) => setTimeout(r, lookupDelayMs));
      return workflows.get(id)?.memo;
    },
    cancel: (id) => {
      signals.push(`cancel:${id}`);
      return Promise.resolve();
    },
    retry: (id) => {
      signals.push(`retry:${id}`);
      return Promise.resolve();
    },
  },
};

let app: FastifyInstance;
/** Memo of workflows created by the (anonymous) caller of these tests: status and actions are owner-scoped. */
const owner = { bodyHash: '0'.repeat(64), clientId: 'anonymous' };
const email = {
  deliveries: [{ channel: 'email', to: 'ada@example.com', content: { subject: 'Hello', text: 'Hi Ada' } }],
};
const post = (body: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/notifications',
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

beforeAll(async () => {
  app = await buildApp(deps);
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  written.length = 0;
  failWrites = false;
  writeDelayMs = 0;
  lookupDelayMs = 0;
});

describe('POST /v1/notifications', () => {
  it('answers 202 with id and links once the record is written, keyed by the notification id', async () => {
    const res = await post(email);
    expect(res.statusCode).toBe(202);
    const body = res.json<{ id: string; status: string; links: { self: string; temporalUi: string } }>();
    expect(body.status).toBe('accepted');
    expect(body.id).toMatch(/^ntf_[0-9a-f]{32}$/);
    expect(body.links.self).toBe(`/v1/notifications/${body.id}`);
    expect(body.links.temporalUi).toContain(`/workflows/${body.id}`);
    expect(written).toHaveLength(1);
    expect(written[0]?.key).toBe(body.id);
    expect(written[0]?.headers?.['schema-version']).toBe('1');
    const envelope = JSON.parse(written[0]?.value ?? '{}') as { id: string; request: { routing: string } };
    expect(envelope.id).toBe(body.id);
    expect(envelope.request.routing).toBe('all');
  });

  it('answers 503 with Retry-After and writes nothing when Kafka does not acknowledge', async () => {
    failWrites = true;
    const res = await post(email);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
  });

  it('returns the original id with Idempotency-Replay when the same key and body are sent again', async () => {
    const first = await post(email, { 'idempotency-key': 'order-1' });
    const second = await post(email, { 'idempotency-key': 'order-1' });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    expect(second.headers['idempotency-replay']).toBe('true');
    expect(first.headers['idempotency-replay']).toBeUndefined();
    expect(written).toHaveLength(1);
  });

  it('treats key order in the body as the same request for idempotency', async () => {
    await post(email, { 'idempotency-key': 'order-2' });
    const reordered = {
      deliveries: [{ content: { text: 'Hi Ada', subject: 'Hello' }, to: 'ada@example.com', channel: 'email' }],
    };
    const res = await post(reordered, { 'idempotency-key': 'order-2' });
    expect(res.statusCode).toBe(202);
    expect(res.headers['idempotency-replay']).toBe('true');
  });

  it('writes once for concurrent requests with the same key', async () => {
    writeDelayMs = 50;
    const results = await Promise.all([1, 2, 3, 4].map(() => post(email, { 'idempotency-key': 'concurrent-1' })));
    expect(new Set(results.map((r) => r.json<{ id: string }>().id)).size).toBe(1);
    expect(results.every((r) => r.statusCode === 202)).toBe(true);
    expect(written).toHaveLength(1);
  });

  it('writes once for concurrent requests with the same key while the replay lookup in Temporal is slow', async () => {
    lookupDelayMs = 50;
    const results = await Promise.all(
      [1, 2, 3].map(() => post(email, { 'idempotency-key': 'concurrent-slow-lookup' })),
    );
    expect(results.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    expect(results.filter((r) => r.headers['idempotency-replay'] === 'true')).toHaveLength(2);
    expect(written).toHaveLength(1);
  });

  it('answers 422 when a key is reused with a different body', async () => {
    await post(email, { 'idempotency-key': 'order-3' });
    const res = await post(
      { deliveries: [{ channel: 'email', to: 'bob@example.com', content: { subject: 'x', text: 'y' } }] },
      { 'idempotency-key': 'order-3' },
    );
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('detects a replay from the workflow memo when this gateway has not seen the key', async () => {
    const { idFromIdempotencyKey } = await import('./ids.js');
    const { hashRequest } = await import('../kafka/envelope.js');
    const id = idFromIdempotencyKey('anonymous', 'older-key');
    workflows.set(id, {
      memo: { bodyHash: hashRequest({ ...email, routing: 'all' } as never), clientId: 'anonymous' },
      runStatus: 'COMPLETED',
      pendingActivities: [],
    });
    const res = await post(email, { 'idempotency-key': 'older-key' });
    expect(res.statusCode).toBe(202);
    expect(res.json<{ id: string }>().id).toBe(id);
    expect(res.headers['idempotency-replay']).toBe('true');
    expect(written).toHaveLength(0);
  });

  it('derives ids from keys without exposing the key', async () => {
    const res = await post(email, { 'idempotency-key': 'ada@example.com-welcome' });
    expect(res.json<{ id: string }>().id).not.toContain('ada');
  });

  it('rejects an over-long Idempotency-Key with 400', async () => {
    const res = await post(email, { 'idempotency-key': 'k'.repeat(256) });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ issues: Array<{ path: string }> }>().issues[0]?.path).toContain('idempotency-key');
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await post('{"deliveries": [');
    expect(res.statusCode).toBe(400);
    expect(res.json<{ message: string }>().message).toMatch(/JSON/);
  });

  it('answers 400 listing each field at fault', async () => {
    const res = await post({
      deliveries: [{ channel: 'email', to: 'not-an-address', content: { text: 'x' } }],
      routing: 'sideways',
      extra: 1,
    });
    expect(res.statusCode).toBe(400);
    const paths = res.json<{ issues: Array<{ path: string; message: string }> }>().issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['routing']));
    expect(paths.some((p) => p.startsWith('deliveries.0'))).toBe(true);
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it('answers 400 naming the known channels for an unknown channel', async () => {
    const res = await post({ deliveries: [{ channel: 'pigeon', to: 'x', content: {} }] });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('email');
    expect(res.body).toContain('sms');
    expect(res.body).toContain('slack');
  });

  it('answers 413 for a body over the configured limit', async () => {
    const res = await post({ ...email, metadata: { big: 'x'.repeat(5000) } });
    expect(res.statusCode).toBe(413);
  });

  it('answers 415 for a non-JSON content type', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/notifications',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ statusCode: 415 });
  });

  it('rejects sendAt without a time zone', async () => {
    const res = await post({ ...email, sendAt: '2030-01-01 10:00' });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ issues: Array<{ path: string }> }>().issues[0]?.path).toBe('sendAt');
  });

  it('accepts a digest with a key and a window for a recipient and writes it into the record', async () => {
    const res = await post({
      recipient: 'user-1',
      digest: { key: 'comments', window: '10m' },
      deliveries: [{ channel: 'email', content: { subject: 'New comment', text: 'Ada commented' } }],
    });
    expect(res.statusCode).toBe(202);
    expect(written).toHaveLength(1);
    expect(written[0]?.value).toContain('comments');
  });

  it.each([
    [{ key: 'has space', window: '10m' }, 'digest.key', 'digest key'],
    [{ key: 'a'.repeat(65), window: '10m' }, 'digest.key', 'digest key'],
    [{ key: 'k', window: '10 minutes' }, 'digest.window', 'duration like'],
    [{ key: 'k', window: '5s' }, 'digest.window', 'between 10s and 24h'],
    [{ key: 'k', window: '25h' }, 'digest.window', 'between 10s and 24h'],
    [{ key: 'k' }, 'digest.window', ''],
    [{ key: 'k', window: '10m', extra: true }, 'digest', ''],
  ])('answers 400 naming the digest field for digest %j', async (digest, path, message) => {
    const res = await post({
      recipient: 'user-1',
      digest,
      deliveries: [{ channel: 'email', content: { subject: 's', text: 't' } }],
    });
    expect(res.statusCode).toBe(400);
    const issues = res.json<{ issues: Array<{ path: string; message: string }> }>().issues;
    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.find((i) => i.path === path)?.message).toContain(message);
    expect(written).toHaveLength(0);
  });

  it('answers 400 at recipient for a digest without a recipient, and at routing for a fallback digest', async () => {
    const noRecipient = await post({ ...email, digest: { key: 'k', window: '1m' } });
    expect(noRecipient.statusCode).toBe(400);
    expect(noRecipient.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toEqual(['recipient']);
    const fallback = await post({
      recipient: 'user-1',
      routing: 'fallback',
      digest: { key: 'k', window: '1m' },
      deliveries: [{ channel: 'email', content: { subject: 's', text: 't' } }],
    });
    expect(fallback.statusCode).toBe(400);
    expect(fallback.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toEqual(['routing']);
    expect(written).toHaveLength(0);
  });
});

describe('POST /v1/notifications/batch', () => {
  it('reports a result per item and writes only the valid ones', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/notifications/batch',
      payload: { notifications: [email, { deliveries: [] }, { ...email, idempotencyKey: 'batch-1' }] },
    });
    expect(res.statusCode).toBe(207);
    const body = res.json<{
      accepted: number;
      rejected: number;
      results: Array<{ index: number; status: number; id?: string; error?: { issues: Array<{ path: string }> } }>;
    }>();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(1);
    expect(body.results.map((r) => r.status)).toEqual([202, 400, 202]);
    expect(body.results[1]?.error?.issues[0]?.path).toBe('notifications.1.deliveries');
    expect(written).toHaveLength(2);
  });

  it('rejects a batch over the configured size', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/notifications/batch',
      payload: { notifications: Array.from({ length: 6 }, () => email) },
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('GET /v1/notifications/:id', () => {
  it('answers 404 for an unknown id', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/notifications/ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f' });
    expect(res.statusCode).toBe(404);
  });

  it('reports accepted for a notification written to Kafka but not yet started', async () => {
    const { id } = (await post(email)).json<{ id: string }>();
    const res = await app.inject({ method: 'GET', url: `/v1/notifications/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'accepted' });
  });

  it('reports the workflow state with per-channel details', async () => {
    const id = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e60';
    workflows.set(id, {
      runStatus: 'COMPLETED',
      pendingActivities: [],
      memo: owner,
      state: {
        id,
        status: 'sent',
        routing: 'all',
        deliveries: [{ channel: 'email', status: 'sent', attempts: 2, providerMessageId: '<x@y>' }],
        acceptedAt: 'a',
        updatedAt: 'b',
      },
    });
    const res = await app.inject({ method: 'GET', url: `/v1/notifications/${id}` });
    expect(res.json()).toMatchObject({
      status: 'sent',
      deliveries: [{ channel: 'email', attempts: 2, providerMessageId: '<x@y>' }],
    });
  });
});

describe('cancel and retry', () => {
  it('signals cancel for a scheduled notification and refuses it once sent', async () => {
    const id = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e61';
    workflows.set(id, {
      runStatus: 'RUNNING',
      pendingActivities: [],
      statusFromSearchAttribute: 'scheduled',
      memo: owner,
    });
    expect((await app.inject({ method: 'POST', url: `/v1/notifications/${id}/cancel` })).statusCode).toBe(202);
    expect(signals).toContain(`cancel:${id}`);
    workflows.set(id, {
      runStatus: 'COMPLETED',
      pendingActivities: [],
      statusFromSearchAttribute: 'sent',
      memo: owner,
    });
    expect((await app.inject({ method: 'POST', url: `/v1/notifications/${id}/cancel` })).statusCode).toBe(409);
  });

  it('signals retry only for a failed notification', async () => {
    const id = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e62';
    workflows.set(id, {
      runStatus: 'RUNNING',
      pendingActivities: [],
      statusFromSearchAttribute: 'sending',
      memo: owner,
    });
    expect((await app.inject({ method: 'POST', url: `/v1/notifications/${id}/retry` })).statusCode).toBe(409);
    workflows.set(id, {
      runStatus: 'RUNNING',
      pendingActivities: [],
      statusFromSearchAttribute: 'failed',
      memo: owner,
    });
    expect((await app.inject({ method: 'POST', url: `/v1/notifications/${id}/retry` })).statusCode).toBe(202);
    expect(signals).toContain(`retry:${id}`);
  });
});

describe('health and docs', () => {
  it('serves /healthz, /readyz and the OpenAPI document with the notification routes', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    failWrites = true;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, unknown>;
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/notifications', '/v1/notifications/batch', '/v1/notifications/{id}']),
    );
    expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });
});

describe('routing errors', () => {
  it('answers 405 with an Allow header for a known path with another method', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/v1/notifications' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toContain('POST');
    expect(res.json()).toMatchObject({ statusCode: 405, code: 'METHOD_NOT_ALLOWED' });
  });

  it('answers 405 with Allow: POST only on /v1/notifications/batch, for GET (not a status lookup of id "batch") and other methods', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT', 'PATCH'] as const) {
      const res = await app.inject({ method, url: '/v1/notifications/batch' });
      expect(res.statusCode, method).toBe(405);
      expect(res.headers.allow, method).toBe('POST');
      if (method !== 'HEAD')
        expect(res.json(), method).toMatchObject({
          statusCode: 405,
          code: 'METHOD_NOT_ALLOWED',
          message: `${method} is not allowed on /v1/notifications/batch; allowed: POST`,
        });
    }
    const byId = await app.inject({ method: 'DELETE', url: '/v1/notifications/ntf_0123456789abcdef01234567ab' });
    expect(byId.statusCode).toBe(405);
    expect(byId.headers.allow).toMatch(/^GET\b/);
    expect(byId.headers.allow).not.toContain('POST');
  });

  it('answers 405 (not 400) for QUERY without a Content-Type on a path that does not serve QUERY', async () => {
    const res = await app.inject({ method: 'QUERY' as 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toContain('GET');
    expect((await app.inject({ method: 'QUERY' as 'GET', url: '/v2/nothing' })).statusCode).toBe(404);
  });

  it('answers 404 for an unknown path and 400 (not 414) for an over-long id', async () => {
    expect((await app.inject({ method: 'GET', url: '/v2/nothing' })).statusCode).toBe(404);
    const res = await app.inject({ method: 'GET', url: `/v1/notifications/ntf_${'a'.repeat(200)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ issues: Array<{ path: string }> }>().issues[0]?.path).toContain('id');
  });
});
