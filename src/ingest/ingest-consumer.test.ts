import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import {
  committedOffsets,
  createTestTopics,
  eventually,
  produceRaw,
  readTopic,
  testLogger,
} from '../../test/helpers/kafka.js';
import { loadConfig } from '../config/config.js';
import { createKafka } from '../kafka/create-kafka.js';
import { encodeEnvelope, hashRequest, HEADERS } from '../kafka/envelope.js';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import { NotificationClient } from '../temporal/notification-client.js';
import type { NotificationRequest } from '../shared/notification.js';
import { IngestConsumer } from './ingest-consumer.js';
import type { IngestEvent, IngestOptions, WorkflowStarter } from './ingest-consumer.js';
import { buildWorkflowInput } from './workflow-input.js';
import { idFromIdempotencyKey } from '../api/ids.js';

/** Ingest against the real broker and the real Temporal server (no workers needed: workflows just start). */
const env = testEnvironment();
const config = loadConfig({ TEMPORAL_TASK_QUEUE_PREFIX: env.prefix });
let connection: Connection;
let client: Client;
let notifications: NotificationClient;
const consumers: IngestConsumer[] = [];

const request: NotificationRequest = {
  routing: 'all',
  deliveries: [{ channel: 'email', to: 'ada@example.com', content: { subject: 'Hi', text: 'Hello' } }],
};

function envelope(key: string): NotificationEnvelope {
  return {
    v: 1,
    id: idFromIdempotencyKey(env.prefix, key),
    clientId: 'test',
    acceptedAt: new Date().toISOString(),
    bodyHash: hashRequest(request),
    request,
  };
}

async function startConsumer(
  topics: { topic: string; dlqTopic: string },
  overrides: Partial<IngestOptions> = {},
): Promise<{ consumer: IngestConsumer; events: IngestEvent[]; groupId: string }> {
  const events: IngestEvent[] = [];
  const groupId = overrides.groupId ?? `${topics.topic}-group`;
  const consumer = new IngestConsumer({
    kafka: createKafka({ brokers: env.kafkaBrokers, clientId: 'ingest-test', logger: testLogger }),
    topic: topics.topic,
    dlqTopic: topics.dlqTopic,
    groupId,
    starter: notifications,
    buildInput: (e) => buildWorkflowInput(e, config),
    logger: testLogger,
    concurrency: 8,
    partitionsConcurrently: 3,
    maxRecordBytes: 4096,
    startTimeoutMs: 5_000,
    backoffMaxMs: 500,
    sessionTimeoutMs: 10_000,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  consumers.push(consumer);
  await consumer.start();
  return { consumer, events, groupId };
}

async function runsOf(id: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${id}'` })) n++;
  return n;
}

beforeAll(async () => {
  connection = await Connection.connect({ address: env.temporalAddress });
  client = new Client({ connection, namespace: env.namespace });
  notifications = new NotificationClient(client, { taskQueuePrefix: env.prefix });
});

afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.stop()));
  await connection?.close();
});

describe('IngestConsumer', () => {
  it('starts one workflow per record and commits the offset past it', async () => {
    const topics = await createTestTopics(env.kafkaBrokers, `${env.prefix}a`, 1);
    const records = ['a1', 'a2', 'a3'].map(envelope);
    await produceRaw(
      env.kafkaBrokers,
      topics.topic,
      records.map((r) => encodeEnvelope(r)),
    );
    const { events, groupId } = await startConsumer(topics);
    await eventually(() => events.filter((e) => e.type === 'started').length === 3, 'three starts');
    await eventually(
      async () => (await committedOffsets(env.kafkaBrokers, groupId, topics.topic)).get(0) === 3n,
      'offset 3 committed',
    );
    for (const r of records) {
      const description = await client.workflow.getHandle(r.id).describe();
      expect(description.memo).toMatchObject({ bodyHash: r.bodyHash, clientId: 'test' });
    }
  });

  it('dead-letters poison records with their origin in headers and keeps the partition moving', async () => {
    const topics = await createTestTopics(env.kafkaBrokers, `${env.prefix}b`, 1);
    const good = envelope('b-good');
    await produceRaw(env.kafkaBrokers, topics.topic, [
      { key: 'x', value: '{not json' },
      { key: 'y', value: JSON.stringify({ v: 1, id: 'nope' }) },
      { key: 'z', value: 'x'.repeat(5000) },
      encodeEnvelope(good),
    ]);
    const { events, groupId } = await startConsumer(topics);
    await eventually(() => events.some((e) => e.type === 'started'), 'the good record started');
    await eventually(
      async () => (await committedOffsets(env.kafkaBrokers, groupId, topics.topic)).get(0) === 4n,
      'offset 4 committed',
    );
    // Records of a batch are processed concurrently, so DLQ order may differ: order by original offset.
    const dlq = (await readTopic(env.kafkaBrokers, topics.dlqTopic, 3)).sort(
      (a, b) => Number(a.headers?.[HEADERS.dlqOffset]?.toString()) - Number(b.headers?.[HEADERS.dlqOffset]?.toString()),
    );
    expect(dlq.map((m) => m.headers?.[HEADERS.dlqReason]?.toString())).toEqual([
      'not-json',
      'invalid-schema',
      'oversized',
    ]);
    for (const [i, m] of dlq.entries()) {
      expect(m.headers?.[HEADERS.dlqTopic]?.toString()).toBe(topics.topic);
      expect(m.headers?.[HEADERS.dlqPartition]?.toString()).toBe('0');
      expect(m.headers?.[HEADERS.dlqOffset]?.toString()).toBe(String(i));
      expect(m.headers?.[HEADERS.dlqError]?.toString().length).toBeGreaterThan(5);
    }
    expect(dlq[1]?.headers?.[HEADERS.dlqError]?.toString()).toContain('id');
    expect(await runsOf(good.id)).toBe(1);
  });

  it('never starts a second run when a record is redelivered after its workflow started and even completed', async () => {
    const topics = await createTestTopics(env.kafkaBrokers, `${env.prefix}c`, 1);
    const record = envelope('c1');
    await produceRaw(env.kafkaBrokers, topics.topic, [encodeEnvelope(record)]);
    let crashed = false;
    const { events } = await startConsumer(topics, {
      afterStart: async (e) => {
        if (crashed) return;
        crashed = true;
        // The first run completes (terminated here) before the record comes back; then we "crash" before committing.
        await client.workflow.getHandle(e.id).terminate('test: close the first run');
        throw new Error('simulated crash between workflow start and offset commit');
      },
    });
    await eventually(
      () => events.filter((e) => e.type === 'started').length === 2,
      'the record redelivered and processed again',
      60_000,
    );
    const outcomes = events.flatMap((e) => (e.type === 'started' ? [e.outcome] : []));
    expect(outcomes).toEqual(['started', 'already-started']);
    expect(await runsOf(record.id)).toBe(1);
  });

  it('backs off without committing while Temporal refuses starts, then drains every record', async () => {
    const topics = await createTestTopics(env.kafkaBrokers, `${env.prefix}d`, 1);
    const records = ['d1', 'd2', 'd3', 'd4'].map(envelope);
    await produceRaw(
      env.kafkaBrokers,
      topics.topic,
      records.map((r) => encodeEnvelope(r)),
    );
    let available = false;
    const flaky: WorkflowStarter = {
      start: (input, memo) =>
        available ? notifications.start(input, memo) : Promise.reject(new Error('14 UNAVAILABLE: connection refused')),
    };
    const { events, groupId } = await startConsumer(topics, { starter: flaky });
    await eventually(() => events.filter((e) => e.type === 'start-failed').length >= 3, 'several failed starts');
    expect((await committedOffsets(env.kafkaBrokers, groupId, topics.topic)).get(0) ?? -1n).toBeLessThan(0n);
    available = true;
    await eventually(() => events.filter((e) => e.type === 'started').length === 4, 'all four started');
    await eventually(
      async () => (await committedOffsets(env.kafkaBrokers, groupId, topics.topic)).get(0) === 4n,
      'offset 4 committed',
    );
    for (const r of records) expect(await runsOf(r.id)).toBe(1);
  });
});
