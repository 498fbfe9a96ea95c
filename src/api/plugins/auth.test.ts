import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { testLogger } from '../../../test/helpers/kafka.js';
import { buildApp } from '../app.js';
import type { GatewayDeps } from '../types.js';
import { loadConfig } from '../../config/config.js';
import { generatePayloadKeyEntry, PayloadKeyring } from '../../crypto/keyring.js';
import { AesGcmPayloadCodec } from '../../crypto/payload-codec.js';
import type { NotificationLookup } from '../../temporal/notification-client.js';
import { formatApiKeyEntry, generateApiKey } from '../../auth/api-keys.js';

/**
 * Access control of the gateway over HTTP (Kafka and Temporal replaced by in-memory stand-ins; the real pipeline is
 * covered by test/security.test.ts).
 */
const keys = { acme: generateApiKey(), globex: generateApiKey(), reader: generateApiKey(), admin: generateApiKey() };
const API_KEYS = [
  formatApiKeyEntry('acme', ['send', 'read', 'admin'], keys.acme),
  formatApiKeyEntry('globex', ['send', 'read', 'admin'], keys.globex),
  formatApiKeyEntry('acme', ['read'], keys.reader),
  formatApiKeyEntry('ops', ['admin'], keys.admin),
].join(',');
const keyring = PayloadKeyring.fromSpec(generatePayloadKeyEntry('k1'));
const email = {
  deliveries: [{ channel: 'email', to: 'ada@example.com', content: { subject: 'Hello', text: 'Hi Ada' } }],
};
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

let apps: FastifyInstance[] = [];
const workflows = new Map<string, NotificationLookup>();
const signals: string[] = [];

async function gateway(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config = loadConfig({ API_KEYS, TEMPORAL_UI_URL: 'http://127.0.0.1:8233/', ...env });
  const deps: GatewayDeps = {
    config,
    logger: testLogger,
    auth: config.AUTH_DISABLED ? { disabled: true } : { keys: config.API_KEYS ?? [] },
    payloadKeyring: keyring,
    producer: { isConnected: () => true, send: () => Promise.resolve() },
    notifications: {
      lookup: (id) => Promise.resolve(workflows.get(id)),
      memo: (id) => Promise.resolve(workflows.get(id)?.memo),
      cancel: (id) => Promise.resolve(void signals.push(`cancel:${id}`)),
      retry: (id) => Promise.resolve(void signals.push(`retry:${id}`)),
    },
  };
  const app = await buildApp(deps);
  apps.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

const submit = (app: FastifyInstance, headers: Record<string, string>) =>
  app.inject({ method: 'POST', url: '/v1/notifications', payload: email, headers });

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate: Bearer when no key is sent', async () => {
    const res = await submit(await gateway(), {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="notify"');
    expect(res.json()).toMatchObject({ code: 'MISSING_API_KEY' });
  });

  it('answers 401 for an unknown key and for a malformed Authorization header', async () => {
    const app = await gateway();
    for (const authorization of [
      `Bearer ${generateApiKey()}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${keys.acme} extra`,
    ]) {
      const res = await submit(app, { authorization });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });

  it('answers 403 naming the missing scope when the key may not do this', async () => {
    const app = await gateway();
    const res = await submit(app, bearer(keys.reader));
    expect(res.statusCode).toBe(403);
    expect(res.json<{ message: string }>().message).toContain('"send" scope');
    expect(res.headers['www-authenticate']).toContain('scope="send"');
    const status = await app.inject({
      method: 'GET',
      url: '/v1/notifications/ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f',
      headers: bearer(keys.admin),
    });
    expect(status.statusCode).toBe(403);
  });

  it('accepts a key with the scope and rejects before reading the body', async () => {
    const app = await gateway();
    expect((await submit(app, bearer(keys.acme))).statusCode).toBe(202);
    const unauthenticatedGarbage = await app.inject({
      method: 'POST',
      url: '/v1/notifications',
      payload: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(unauthenticatedGarbage.statusCode).toBe(401);
  });

  it('lets everyone in as the anonymous client when AUTH_DISABLED=true', async () => {
    const app = await gateway({ AUTH_DISABLED: 'true' });
    expect((await submit(app, {})).statusCode).toBe(202);
  });
});

describe('owner scoping', () => {
  it('hides a notification accepted for one client from another client (404) but shows it to its owner', async () => {
    const app = await gateway();
    const { id } = (await submit(app, bearer(keys.acme))).json<{ id: string }>();
    const other = await app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: bearer(keys.globex) });
    expect(other.statusCode).toBe(404);
    const own = await app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: bearer(keys.reader) });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id, status: 'accepted' });
  });

  it('answers 404 to status, cancel and retry of another client’s workflow exactly as for a missing one', async () => {
    const app = await gateway();
    const id = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e70';
    workflows.set(id, {
      runStatus: 'RUNNING',
      pendingActivities: [],
      statusFromSearchAttribute: 'failed',
      memo: { clientId: 'acme', bodyHash: '0'.repeat(64) },
    });
    const missing = await app.inject({
      method: 'GET',
      url: '/v1/notifications/ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e71',
      headers: bearer(keys.globex),
    });
    for (const [method, url] of [
      ['GET', `/v1/notifications/${id}`],
      ['POST', `/v1/notifications/${id}/cancel`],
      ['POST', `/v1/notifications/${id}/retry`],
    ] as const) {
      const res = await app.inject({ method, url, headers: bearer(keys.globex) });
      expect(res.statusCode).toBe(404);
      expect(res.json<{ code: string }>().code).toBe(missing.json<{ code: string }>().code);
    }
    expect(signals.filter((s) => s.endsWith(id))).toEqual([]);
    expect(
      (await app.inject({ method: 'POST', url: `/v1/notifications/${id}/retry`, headers: bearer(keys.acme) }))
        .statusCode,
    ).toBe(202);
    expect(signals).toContain(`retry:${id}`);
  });

  it('gives two clients using the same Idempotency-Key two different notifications', async () => {
    const app = await gateway();
    const a = await submit(app, { ...bearer(keys.acme), 'idempotency-key': 'order-1' });
    const b = await submit(app, { ...bearer(keys.globex), 'idempotency-key': 'order-1' });
    expect(a.json<{ id: string }>().id).not.toBe(b.json<{ id: string }>().id);
    expect(b.headers['idempotency-replay']).toBeUndefined();
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After and RateLimit headers once a client exceeds its limit, without affecting others', async () => {
    const app = await gateway({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await submit(app, bearer(keys.acme)));
    expect(answers.map((r) => r.statusCode)).toEqual([202, 202, 202, 429]);
    const limited = answers[3];
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited?.headers['ratelimit-limit']).toBe('3');
    expect(limited?.headers['ratelimit-remaining']).toBe('0');
    expect(limited?.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect(answers[0]?.headers['ratelimit-remaining']).toBe('2');
    // The limit is per client: all of acme's keys share it, another client has its own.
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/v1/notifications/ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f',
          headers: bearer(keys.reader),
        })
      ).statusCode,
    ).toBe(429);
    expect((await submit(app, bearer(keys.globex))).statusCode).toBe(202);
  });

  it('by default lets an operator backend burst far beyond a load test while callers without a valid key stay at 600 a minute', async () => {
    const app = await gateway();
    const authenticated = await submit(app, bearer(keys.acme));
    expect(authenticated.statusCode).toBe(202);
    expect(Number(authenticated.headers['ratelimit-limit'])).toBeGreaterThanOrEqual(100_000);
    const guessing = await submit(app, bearer(generateApiKey()));
    expect(guessing.statusCode).toBe(401);
    expect(guessing.headers['ratelimit-limit']).toBe('600');
  });

  it('limits unauthenticated callers per IP, so keys cannot be guessed at full speed, and never limits health checks', async () => {
    const app = await gateway({ RATE_LIMIT_MAX: '2' });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await submit(app, bearer(generateApiKey()))).statusCode);
    expect(codes).toEqual([401, 401, 429]);
    for (let i = 0; i < 4; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('documentation and headers', () => {
  it('serves /docs with a Content-Security-Policy and anti-framing headers', async () => {
    const res = await (await gateway()).inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('documents bearer authentication in the OpenAPI document', async () => {
    const doc = (await (await gateway()).inject({ method: 'GET', url: '/openapi.json' })).json<{
      components: { securitySchemes: Record<string, { scheme: string }> };
    }>();
    expect(doc.components.securitySchemes.apiKey?.scheme).toBe('bearer');
  });
});

describe('codec endpoint', () => {
  const codec = new AesGcmPayloadCodec(keyring);
  const toJson = (p: { metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  });

  it('decodes payloads for an admin key in the codec-server JSON format', async () => {
    const [encoded] = await codec.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"ada@example.com"') },
    ]);
    const res = await (
      await gateway()
    ).inject({
      method: 'POST',
      url: '/codec/decode',
      payload: { payloads: [toJson(encoded ?? {})] },
      headers: bearer(keys.admin),
    });
    expect(res.statusCode).toBe(200);
    const [decoded] = res.json<{ payloads: Array<{ metadata: Record<string, string>; data: string }> }>().payloads;
    expect(Buffer.from(decoded?.data ?? '', 'base64').toString()).toBe('"ada@example.com"');
    expect(Buffer.from(decoded?.metadata.encoding ?? '', 'base64').toString()).toBe('json/plain');
  });

  it('encodes payloads that it can decode again', async () => {
    const app = await gateway();
    const plain = toJson({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('42') });
    const encoded = await app.inject({
      method: 'POST',
      url: '/codec/encode',
      payload: { payloads: [plain] },
      headers: bearer(keys.admin),
    });
    const decoded = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      payload: encoded.json(),
      headers: bearer(keys.admin),
    });
    expect(decoded.json()).toEqual({ payloads: [plain] });
  });

  it('refuses keys without the admin scope and requests without a key', async () => {
    const app = await gateway();
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/codec/decode',
          payload: { payloads: [] },
          headers: bearer(keys.reader),
        })
      ).statusCode,
    ).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] } })).statusCode).toBe(
      401,
    );
  });

  it('lets the embedded Web UI origin decode without a key on loopback in development only', async () => {
    const fromUi = { origin: 'http://127.0.0.1:8233' };
    const dev = await gateway({ NOTIFY_ENV: 'development', HTTP_HOST: '127.0.0.1' });
    expect(
      (await dev.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] }, headers: fromUi }))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await dev.inject({
          method: 'POST',
          url: '/codec/decode',
          payload: { payloads: [] },
          headers: { origin: 'https://evil.example' },
        })
      ).statusCode,
    ).toBe(401);
    const exposed = await gateway({ NOTIFY_ENV: 'development', HTTP_HOST: '0.0.0.0' });
    expect(
      (await exposed.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] }, headers: fromUi }))
        .statusCode,
    ).toBe(401);
    const prod = await gateway({ NOTIFY_ENV: 'production' });
    expect(
      (await prod.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] }, headers: fromUi }))
        .statusCode,
    ).toBe(401);
  });

  it('allows CORS only from the Temporal UI origin', async () => {
    const app = await gateway();
    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/codec/decode',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const ui = await preflight('http://127.0.0.1:8233');
    expect(ui.statusCode).toBe(204);
    expect(ui.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8233');
    expect(ui.headers['access-control-allow-headers']).toContain('authorization');
    const evil = await preflight('https://evil.example');
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const post = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      payload: { payloads: [] },
      headers: { ...bearer(keys.admin), origin: 'https://evil.example' },
    });
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
  });
});
