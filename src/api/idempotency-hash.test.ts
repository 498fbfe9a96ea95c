import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { testLogger } from '../../test/helpers/kafka.js';
import { loadConfig } from '../config/config.js';
import { generatePayloadKeyEntry, parsePayloadKeys, PayloadKeyring } from '../crypto/keyring.js';
import { canonicalJson } from '../kafka/envelope.js';
import type { OutgoingMessage } from '../kafka/batching-producer.js';
import type { NotificationLookup } from '../temporal/notification-client.js';
import { buildApp } from './app.js';
import type { GatewayDeps } from './types.js';

/**
 * The idempotency body hash travels in every Kafka record and Temporal memo. Keyed with a server secret (derived from
 * the payload keys), it must reveal nothing about the body, and replays must still be recognised across key rotation.
 */
const body = {
  deliveries: [{ channel: 'email', to: 'ada@example.com', content: { subject: 'Your code', text: 'Code 123456' } }],
};
/** The request as the gateway stores it (defaults applied by the schema). */
const stored = { ...body, routing: 'all' };
const plainSha256 = createHash('sha256').update(canonicalJson(stored)).digest('hex');

const oldEntry = generatePayloadKeyEntry('k1');
const newEntry = generatePayloadKeyEntry('k2');
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** A gateway with `keyring`, whose Temporal memo lookups answer from `workflows`. */
async function gateway(
  keyring: PayloadKeyring,
  workflows: Map<string, NotificationLookup>,
  written: OutgoingMessage[],
) {
  const deps: GatewayDeps = {
    config: loadConfig({}),
    logger: testLogger,
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
      cancel: () => Promise.resolve(),
      retry: () => Promise.resolve(),
    },
  };
  const app = await buildApp(deps);
  apps.push(app);
  return (key: string, payload: unknown = body) =>
    app.inject({
      method: 'POST',
      url: '/v1/notifications',
      payload: payload as object,
      headers: { 'idempotency-key': key },
    });
}

describe('idempotency body hash', () => {
  it('is an HMAC under a key derived from the payload key, not a plain SHA-256 of the body', async () => {
    const written: OutgoingMessage[] = [];
    const post = await gateway(PayloadKeyring.fromSpec(oldEntry), new Map(), written);
    expect((await post('hash-1')).statusCode).toBe(202);
    const { bodyHash } = JSON.parse(written[0]?.value ?? '{}') as { bodyHash: string };
    expect(bodyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(bodyHash).not.toBe(plainSha256);
    const derived = hkdfSync(
      'sha256',
      parsePayloadKeys(oldEntry).get('k1')!,
      Buffer.alloc(0),
      'notify.idempotency-hash.v1',
      32,
    );
    expect(bodyHash).toBe(createHmac('sha256', Buffer.from(derived)).update(canonicalJson(stored)).digest('hex'));
  });

  it('recognises a replay from the memo after the payload key rotated, and a legacy plain hash, but still refuses a different body', async () => {
    const written: OutgoingMessage[] = [];
    const before = await gateway(PayloadKeyring.fromSpec(oldEntry), new Map(), written);
    const first = await before('rotate-1');
    const { id, bodyHash } = JSON.parse(written[0]?.value ?? '{}') as { id: string; bodyHash: string };
    expect(first.json<{ id: string }>().id).toBe(id);
    // A second gateway (no shared memory) after rotation: k2 encrypts, k1 is still configured. The memo holds the k1 hash.
    const workflows = new Map<string, NotificationLookup>([
      [id, { runStatus: 'COMPLETED', pendingActivities: [], memo: { bodyHash, clientId: 'anonymous' } }],
    ]);
    const after = await gateway(PayloadKeyring.fromSpec(`${oldEntry},${newEntry}`, 'k2'), workflows, written);
    const replay = await after('rotate-1');
    expect(replay.statusCode).toBe(202);
    expect(replay.headers['idempotency-replay']).toBe('true');
    expect((await after('rotate-1', { ...body, tags: ['other'] })).statusCode).toBe(422);
    // A record written before hashes were keyed carries the plain SHA-256.
    const legacy = JSON.parse(written[0]?.value ?? '{}') as { id: string };
    workflows.set(legacy.id, {
      runStatus: 'COMPLETED',
      pendingActivities: [],
      memo: { bodyHash: plainSha256, clientId: 'anonymous' },
    });
    const third = await gateway(PayloadKeyring.fromSpec(newEntry), workflows, written);
    expect((await third('rotate-1')).headers['idempotency-replay']).toBe('true');
  });
});
