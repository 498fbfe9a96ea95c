import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { generatePayloadKeyEntry, PayloadKeyring } from '../crypto/keyring.js';
import type { OutgoingMessage } from '../kafka/batching-producer.js';
import type { NotificationLookup } from '../temporal/notification-client.js';
import { buildApp } from './app.js';
import type { GatewayDeps } from './types.js';

/**
 * Error answers say what really happened: an encoding bug is not "Kafka unavailable", one broken batch item does not
 * fail the others, and a Temporal failure names the step that failed without echoing Temporal's internal text.
 */
const logLines: Array<Record<string, unknown>> = [];
const written: OutgoingMessage[] = [];
const workflows = new Map<string, NotificationLookup>();
let signalError: Error | undefined;

// A real keyring whose sealing fails for requests carrying the marker, standing in for an encryption/encoding bug.
const keyring = PayloadKeyring.fromSpec(generatePayloadKeyEntry('t1'));
const realSeal = keyring.seal.bind(keyring);
keyring.seal = (plaintext, aad) => {
  if (Buffer.from(plaintext).includes('SEAL-BUG')) throw new Error('sealing bug: unexpected input');
  return realSeal(plaintext, aad);
};

const deps: GatewayDeps = {
  config: loadConfig({ BATCH_MAX_ITEMS: '5' }),
  logger: pino(
    { level: 'info' },
    { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
  ),
  auth: { disabled: true },
  payloadKeyring: keyring,
  producer: {
    isConnected: () => true,
    send: (m) => {
      written.push(m);
      return Promise.resolve();
    },
  },
  notifications: {
    lookup: (id) => Promise.resolve(workflows.get(id)),
    memo: (id) => Promise.resolve(workflows.get(id)?.memo),
    cancel: () => (signalError === undefined ? Promise.resolve() : Promise.reject(signalError)),
    retry: () => (signalError === undefined ? Promise.resolve() : Promise.reject(signalError)),
  },
};

const owner = { bodyHash: '0'.repeat(64), clientId: 'anonymous' };
const email = (text: string) => ({
  deliveries: [{ channel: 'email', to: 'ada@example.com', content: { subject: 'Hello', text } }],
});
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildApp(deps);
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  logLines.length = 0;
  written.length = 0;
  signalError = undefined;
});

describe('a failure that is not Kafka’s', () => {
  it('answers 500 (not 503 KAFKA_UNAVAILABLE) when sealing the request fails, and logs the real cause', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/notifications', payload: email('SEAL-BUG') });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'INTERNAL', message: 'Internal error; it has been logged' });
    expect(res.body).not.toContain('sealing bug');
    expect(written).toHaveLength(0);
    expect(logLines.some((l) => l.msg === 'unhandled error' && JSON.stringify(l.err).includes('sealing bug'))).toBe(
      true,
    );
    expect(logLines.some((l) => String(l.msg).includes('kafka'))).toBe(false);
  });
});

describe('POST /v1/notifications/batch with an unexpected error in one item', () => {
  it('answers 207 with a 500 result for that item and keeps the others’ results', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/notifications/batch',
      payload: {
        notifications: [email('fine 1'), email('SEAL-BUG'), { ...email('fine 2'), idempotencyKey: 'batch-ok-2' }],
      },
    });
    expect(res.statusCode).toBe(207);
    const body = res.json<{
      accepted: number;
      rejected: number;
      results: Array<{ index: number; status: number; id?: string; error?: { code: string; message: string } }>;
    }>();
    expect(body.results.map((r) => r.status)).toEqual([202, 500, 202]);
    expect(body.results[1]?.error).toMatchObject({ code: 'INTERNAL', message: 'Internal error; it has been logged' });
    expect(body).toMatchObject({ accepted: 2, rejected: 1 });
    expect(written.map((m) => m.key).sort()).toEqual([body.results[0]?.id, body.results[2]?.id].sort());
    expect(
      logLines.some(
        (l) =>
          l.msg === 'unhandled error in a batch item' && l.index === 1 && JSON.stringify(l.err).includes('sealing bug'),
      ),
    ).toBe(true);
  });
});

describe('cancel and retry when Temporal fails', () => {
  const id = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e70';

  it('answers 503 naming the step that failed, without Temporal’s error text, and logs that text', async () => {
    workflows.set(id, {
      runStatus: 'RUNNING',
      pendingActivities: [],
      statusFromSearchAttribute: 'scheduled',
      memo: owner,
    });
    signalError = new Error('14 UNAVAILABLE: connect ECONNREFUSED 10.1.2.3:7233');
    const res = await app.inject({ method: 'POST', url: `/v1/notifications/${id}/cancel` });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    const body = res.json<{ code: string; message: string }>();
    expect(body.code).toBe('TEMPORAL_UNAVAILABLE');
    expect(body.message).toContain('the cancel request could not be delivered to Temporal');
    expect(body.message).not.toMatch(/temporarily unavailable|ECONNREFUSED|10\.1\.2\.3|UNAVAILABLE:/);
    expect(
      logLines.some(
        (l) =>
          l.msg === 'Temporal call failed; answering 503' &&
          l.notificationId === id &&
          JSON.stringify(l.err).includes('ECONNREFUSED'),
      ),
    ).toBe(true);
  });

  it('answers 409 when the notification finished between the lookup and the retry signal', async () => {
    workflows.set(id, {
      runStatus: 'RUNNING',
      pendingActivities: [],
      statusFromSearchAttribute: 'failed',
      memo: owner,
    });
    signalError = new WorkflowNotFoundError('workflow execution already completed', id, undefined);
    const res = await app.inject({ method: 'POST', url: `/v1/notifications/${id}/retry` });
    expect(res.statusCode).toBe(409);
    expect(res.json<{ code: string; message: string }>()).toMatchObject({ code: 'ALREADY_COMPLETED' });
    expect(res.json<{ message: string }>().message).toContain('finished before the retry request reached it');
  });
});

describe('a channel disabled by DISABLED_CHANNELS', () => {
  it('answers 400 naming the delivery at fault, for one notification and per batch item, and writes nothing for it', async () => {
    const disabledApp = await buildApp({
      ...deps,
      config: loadConfig({ BATCH_MAX_ITEMS: '5', DISABLED_CHANNELS: 'sms' }),
    });
    try {
      const sms = {
        deliveries: [
          { channel: 'email', to: 'ada@example.com', content: { subject: 'Hi', text: 'x' } },
          { channel: 'sms', to: '+14155550123', content: { body: 'x' } },
        ],
      };
      const res = await disabledApp.inject({ method: 'POST', url: '/v1/notifications', payload: sms });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'CHANNEL_DISABLED',
        issues: [
          { path: 'deliveries.1.channel', message: 'channel sms is disabled on this deployment (DISABLED_CHANNELS)' },
        ],
      });
      const batch = await disabledApp.inject({
        method: 'POST',
        url: '/v1/notifications/batch',
        payload: { notifications: [email('ok'), sms] },
      });
      expect(batch.statusCode).toBe(207);
      const body = batch.json<{ results: Array<{ status: number; error?: { issues: Array<{ path: string }> } }> }>();
      expect(body.results.map((r) => r.status)).toEqual([202, 400]);
      expect(body.results[1]?.error?.issues[0]?.path).toBe('notifications.1.deliveries.1.channel');
      expect(written).toHaveLength(1);
    } finally {
      await disabledApp.close();
    }
  });
});
