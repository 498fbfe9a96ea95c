import type { IHeaders, KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { createKafka } from '../../src/kafka/create-kafka.js';
import { ensureTopics } from '../../src/kafka/topics.js';

/** A quiet logger for test plumbing. */
export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Creates this test's own ingress and dead-letter topics on the real broker. */
export async function createTestTopics(
  brokers: string[],
  prefix: string,
  partitions = 3,
): Promise<{ topic: string; dlqTopic: string }> {
  const topic = `${prefix}.notifications`;
  const dlqTopic = `${prefix}.notifications.dlq`;
  const admin = createKafka({ brokers, clientId: `${prefix}-admin`, logger: testLogger }).admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      { topic, dlqTopic, partitions, replicationFactor: 1, retentionMs: 3_600_000 },
      testLogger,
    );
  } finally {
    await admin.disconnect();
  }
  return { topic, dlqTopic };
}

/** Writes raw records (as a misbehaving producer would) with acks = all. */
export async function produceRaw(
  brokers: string[],
  topic: string,
  messages: Array<{ key?: string | null; value: string | Buffer | null; headers?: IHeaders; partition?: number }>,
): Promise<void> {
  const producer = createKafka({ brokers, clientId: 'test-raw', logger: testLogger }).producer({
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Reads records from a topic (from the beginning) until `count` arrived or the timeout passed. */
export async function readTopic(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<KafkaMessage[]> {
  const kafka = createKafka({ brokers, clientId: 'test-reader', logger: testLogger });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: ({ message }) => {
        got.push(message);
        if (got.length >= count) {
          clearTimeout(timer);
          resolve();
        }
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  return got;
}

/** Committed offsets of a consumer group on a topic, by partition. */
export async function committedOffsets(
  brokers: string[],
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const admin = createKafka({ brokers, clientId: 'test-offsets', logger: testLogger }).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it returns true or the timeout passes (then throws with `what`). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
