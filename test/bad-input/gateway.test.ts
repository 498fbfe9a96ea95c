import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse as InjectResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { GatewayDeps } from '../../src/api/types.js';
import { loadConfig } from '../../src/config/config.js';
import { classifyRecord } from '../../src/ingest/classify.js';
import type { OutgoingMessage } from '../../src/kafka/batching-producer.js';
import { testLogger } from '../helpers/kafka.js';
import { contentType, garbageBytes, headerValue, mutatedBody, nastyValue, validBody } from './arbitraries.js';

/**
 * Bad input against the gateway (buildApp with in-memory Kafka/Temporal fakes, requests via `inject`): whatever the
 * body, headers or bytes, the answer is never a 5xx and never a crash; every 4xx carries a `message`, validation
 * errors list `issues[].path`; and whatever the gateway accepts, ingest can process.
 */
const written: OutgoingMessage[] = [];
const config = loadConfig({ HTTP_BODY_LIMIT_BYTES: '16384', RATE_LIMIT_MAX: '0', AUTH_DISABLED: 'true' });
const deps: GatewayDeps = {
  config,
  logger: testLogger,
  auth: { disabled: true },
  producer: {
    isConnected: () => true,
    send: (m) => {
      written.push(m);
      return Promise.resolve();
    },
  },
  notifications: {
    lookup: () => Promise.resolve(undefined),
    memo: () => Promise.resolve(undefined),
    cancel: () => Promise.resolve(),
    retry: () => Promise.resolve(),
  },
};

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildApp(deps);
});
afterAll(async () => {
  await app?.close();
});

/** The properties every answer must have; returns the parsed body. */
function checkAnswer(res: InjectResponse, what: string): Record<string, unknown> {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
  const body = res.json<Record<string, unknown>>();
  if (res.statusCode >= 400) {
    expect(typeof body.message, `${what}: 4xx without message: ${res.body.slice(0, 300)}`).toBe('string');
    expect(String(body.message).length).toBeGreaterThan(0);
    expect(body.statusCode).toBe(res.statusCode);
    if (body.code === 'VALIDATION_FAILED') {
      const issues = body.issues as Array<{ path: unknown; message: unknown }>;
      expect(Array.isArray(issues) && issues.length > 0, `${what}: validation error without issues`).toBe(true);
      for (const issue of issues) {
        expect(typeof issue.path).toBe('string');
        expect(typeof issue.message).toBe('string');
      }
    }
  }
  return body;
}

/** Anything accepted (202) was written to Kafka as a record ingest classifies as valid, with the same id. */
function checkAccepted(res: InjectResponse, before: number): void {
  if (res.statusCode !== 202) return;
  const record = written[written.length - 1];
  expect(written.length).toBe(before + 1);
  const classified = classifyRecord(
    { key: Buffer.from(record?.key ?? ''), value: Buffer.from(record?.value ?? '') },
    1024 * 1024,
  );
  expect(classified.kind, JSON.stringify(classified)).toBe('valid');
  if (classified.kind === 'valid') expect(classified.envelope.id).toBe(res.json<{ id: string }>().id);
}

const post = (
  url: string,
  payload: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) => app.inject({ method: 'POST', url, payload, headers });

describe('gateway under bad input', () => {
  it('answers arbitrary JSON bodies with 202 or a 4xx that explains itself', async () => {
    await fc.assert(
      fc.asyncProperty(nastyValue, async (value) => {
        const before = written.length;
        const res = await post('/v1/notifications', JSON.stringify(value));
        checkAnswer(res, 'arbitrary JSON');
        checkAccepted(res, before);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every valid body and writes a record ingest can process', async () => {
    await fc.assert(
      fc.asyncProperty(validBody, async (body) => {
        const before = written.length;
        const res = await post('/v1/notifications', JSON.stringify(body));
        checkAnswer(res, 'valid body');
        expect(res.statusCode, res.body).toBe(202);
        checkAccepted(res, before);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects mutated bodies (fields dropped, retyped, huge, unicode, deeply nested) with a 4xx naming the field, or accepts them', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedBody, async (body) => {
        const before = written.length;
        const res = await post('/v1/notifications', JSON.stringify(body));
        const answer = checkAnswer(res, 'mutated body');
        if (res.statusCode === 400 && answer.code === 'VALIDATION_FAILED') {
          expect((answer.issues as unknown[]).length).toBeGreaterThan(0);
        }
        checkAccepted(res, before);
      }),
      { numRuns: 400 },
    );
  });

  it('survives junk Idempotency-Key, traceparent and Content-Type headers', async () => {
    await fc.assert(
      fc.asyncProperty(validBody, headerValue, headerValue, contentType, async (body, key, traceparent, type) => {
        const before = written.length;
        const res = await post('/v1/notifications', JSON.stringify(body), {
          'content-type': type,
          'idempotency-key': key,
          traceparent,
        });
        checkAnswer(res, `headers key=${JSON.stringify(key)} type=${JSON.stringify(type)}`);
        checkAccepted(res, before);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects JSON nested thousands of levels deep, as the body and inside a field, with a 4xx', async () => {
    for (const depth of [1_000, 5_000, 8_000]) {
      const deepArray = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const deepObject = `${'{"a":'.repeat(depth / 5)}1${'}'.repeat(depth / 5)}`;
      for (const payload of [
        deepArray,
        deepObject,
        `{"deliveries":${deepArray}}`,
        `{"deliveries":[{"channel":"sms","to":"+14155550123","content":${deepObject}}]}`,
      ]) {
        const res = await post('/v1/notifications', payload);
        checkAnswer(res, `depth ${depth}`);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
      }
    }
  });

  it('answers garbage bytes with a 4xx, whatever the content type claims', async () => {
    await fc.assert(
      fc.asyncProperty(garbageBytes, contentType, async (bytes, type) => {
        const res = await post('/v1/notifications', bytes, { 'content-type': type });
        checkAnswer(res, 'garbage bytes');
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 300 },
    );
  });

  it('answers batch submissions of arbitrary items per item, never with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(nastyValue, mutatedBody, validBody), { maxLength: 8 }), async (items) => {
        const res = await post('/v1/notifications/batch', JSON.stringify({ notifications: items }));
        const body = checkAnswer(res, 'batch');
        if (res.statusCode === 207) {
          const results = body.results as Array<{ status: number; error?: { message?: unknown } }>;
          expect(results).toHaveLength(items.length);
          for (const r of results) {
            expect(r.status).toBeLessThan(500);
            if (r.status >= 400) expect(typeof r.error?.message).toBe('string');
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('answers status, cancel and retry for arbitrary ids and paths with a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 120 }), fc.constantFrom('', '/cancel', '/retry'), async (id, action) => {
        const url = `/v1/notifications/${encodeURIComponent(id)}${action}`;
        const res = action === '' ? await app.inject({ method: 'GET', url }) : await post(url, '{}');
        checkAnswer(res, `id ${JSON.stringify(id)}${action}`);
      }),
      { numRuns: 200 },
    );
  });
});
