import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generatePayloadKeyEntry, PayloadKeyring } from '../crypto/keyring.js';
import { createPool, migrate } from '../db/index.js';
import { WebhookEndpointStore } from './store.js';

/** The endpoint store against the real PostgreSQL of the test setup (the `notify` database, owners unique per run). */
let pool: pg.Pool;
let store: WebhookEndpointStore;
const run = Math.random().toString(36).slice(2, 8);
const A = `store-a-${run}`;
const B = `store-b-${run}`;

beforeAll(async () => {
  pool = createPool(inject('databaseUrl'), { max: 3 });
  await migrate(pool);
  store = new WebhookEndpointStore(pool, PayloadKeyring.fromSpec(generatePayloadKeyEntry('store-test')));
});
afterAll(async () => {
  await pool.query('DELETE FROM webhook_endpoints WHERE owner = ANY($1)', [[A, B]]);
  await pool.end();
});

describe('webhook endpoint store', () => {
  it('keeps the secret only sealed: a dump of the row does not contain it, delivery opens it', async () => {
    const { endpoint, secret } = await store.create(A, {
      url: 'https://example.com/hook',
      eventTypes: ['notification.sent', 'notification.sent', 'delivery.failed'],
    });
    expect(endpoint.eventTypes).toEqual(['notification.sent', 'delivery.failed']);
    const { rows } = await pool.query('SELECT * FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(6));
    expect(dump).not.toContain(Buffer.from(secret).toString('base64'));
    expect(await store.forDelivery(A, endpoint.id)).toEqual({
      url: 'https://example.com/hook',
      status: 'enabled',
      secrets: [secret],
    });
  });

  it("never finds, deletes or rotates another owner's endpoint", async () => {
    const { endpoint } = await store.create(A, { url: 'https://example.com/a', eventTypes: ['delivery.sent'] });
    expect(await store.get(B, endpoint.id)).toBeUndefined();
    expect((await store.list(B)).map((e) => e.id)).not.toContain(endpoint.id);
    expect(await store.delete(B, endpoint.id)).toBe(false);
    expect(await store.rotateSecret(B, endpoint.id, 60_000)).toBeUndefined();
    expect(await store.forDelivery(B, endpoint.id)).toBeUndefined();
    expect(await store.listDeliveries(B, endpoint.id)).toBeUndefined();
    expect(await store.get(A, endpoint.id)).toMatchObject({ id: endpoint.id });
  });

  it('signs with the new and the previous secret during the overlap, with the new one only after it', async () => {
    const { endpoint, secret: first } = await store.create(A, {
      url: 'https://example.com/r',
      eventTypes: ['delivery.sent'],
    });
    const rotated = await store.rotateSecret(A, endpoint.id, 60_000);
    expect(rotated?.secret).not.toBe(first);
    expect(rotated?.endpoint.previousSecretExpiresAt).toBeDefined();
    expect((await store.forDelivery(A, endpoint.id))?.secrets).toEqual([rotated?.secret, first]);
    const again = await store.rotateSecret(A, endpoint.id, 0);
    expect((await store.forDelivery(A, endpoint.id))?.secrets).toEqual([again?.secret]);
    expect(again?.endpoint.previousSecretExpiresAt).toBeUndefined();
  });

  it('records deliveries and attempts once each, keeps delivered, and lists them newest first', async () => {
    const { endpoint } = await store.create(A, { url: 'https://example.com/d', eventTypes: ['delivery.sent'] });
    const ev = { eventId: `evt_${run}.delivery.sent.0`, type: 'delivery.sent' as const, notificationId: `ntf_${run}` };
    await store.recordPending(endpoint.id, ev);
    await store.recordPending(endpoint.id, ev);
    const attempt = { endpointId: endpoint.id, eventId: ev.eventId, durationMs: 3 };
    await store.recordAttempt({ ...attempt, attempt: 1, error: 'connect ECONNREFUSED', status: 'retrying' });
    await store.recordAttempt({ ...attempt, attempt: 1, error: 'duplicate run', status: 'retrying' });
    await store.recordAttempt({ ...attempt, attempt: 2, statusCode: 200, status: 'delivered' });
    await store.recordAttempt({ ...attempt, attempt: 3, statusCode: 500, status: 'failed' });
    const [delivery, ...others] = (await store.listDeliveries(A, endpoint.id)) ?? [];
    expect(others).toEqual([]);
    expect(delivery).toMatchObject({
      eventId: ev.eventId,
      status: 'delivered',
      workflowId: `event-${ev.eventId}-${endpoint.id}`,
      attempts: [
        { attempt: 1, error: 'connect ECONNREFUSED' },
        { attempt: 2, statusCode: 200 },
        { attempt: 3, statusCode: 500 },
      ],
    });
    expect(delivery?.deliveredAt).toBeDefined();
  });

  it('lists only enabled endpoints as subscriptions, and deletes an endpoint with its deliveries', async () => {
    const { endpoint } = await store.create(A, { url: 'https://example.com/s', eventTypes: ['delivery.failed'] });
    expect((await store.subscriptions(A)).map((s) => s.id)).toContain(endpoint.id);
    await store.disable(endpoint.id, 'the receiver answered 410 Gone');
    expect((await store.subscriptions(A)).map((s) => s.id)).not.toContain(endpoint.id);
    expect(await store.get(A, endpoint.id)).toMatchObject({
      status: 'disabled',
      disabledReason: 'the receiver answered 410 Gone',
    });
    await store.recordPending(endpoint.id, { eventId: 'evt_x', type: 'delivery.failed', notificationId: 'ntf_x' });
    expect(await store.delete(A, endpoint.id)).toBe(true);
    const { rows } = await pool.query('SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1', [endpoint.id]);
    expect(rows).toEqual([]);
  });
});
