import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKafkaJars, privateKafkaOptions, startKafka, stopKafka } from '../../dev/infra/kafka.js';
import type { KafkaServerOptions } from '../../dev/infra/kafka.js';
import { resolveInfraPaths } from '../../dev/infra/paths.js';
import { testEnvironment } from '../../test/helpers/context.js';
import { freePorts } from '../../test/helpers/infra.js';
import { createTestTopics, readTopic, testLogger } from '../../test/helpers/kafka.js';
import { loadConfig } from '../config/config.js';
import { BatchingProducer, ProduceError } from './batching-producer.js';
import { createKafka } from './create-kafka.js';
import { createGatewayProducer } from './gateway-producer.js';
import type { ProducerClient } from './gateway-producer.js';
import { PlatformaticTransport } from './platformatic-transport.js';

const env = testEnvironment();

/** Every record of `topic` (its high watermarks say how many there are), as partition per key and keys in order. */
async function recordsOf(
  brokers: string[],
  topic: string,
): Promise<{ partitionOf: Map<string, number>; keys: string[] }> {
  const admin = createKafka({ brokers, clientId: 'records-of', logger: testLogger }).admin();
  await admin.connect();
  let total = 0;
  try {
    total = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
  const partitionOf = new Map<string, number>();
  const keys: string[] = [];
  if (total === 0) return { partitionOf, keys };
  const kafka = createKafka({ brokers, clientId: 'records-of-reader', logger: testLogger });
  const consumer = kafka.consumer({ groupId: `records-of-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    void consumer.run({
      eachMessage: ({ partition, message }) => {
        const key = message.key?.toString() ?? '';
        partitionOf.set(key, partition);
        keys.push(key);
        if (keys.length >= total) {
          clearTimeout(timer);
          resolve();
        }
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  return { partitionOf, keys };
}

describe('the @platformatic/kafka gateway producer next to kafkajs', () => {
  it('puts every notification id on the same partition as the kafkajs producer does', async () => {
    const partitions = 7;
    const a = await createTestTopics(env.kafkaBrokers, `${env.prefix}pa`, partitions);
    const b = await createTestTopics(env.kafkaBrokers, `${env.prefix}pb`, partitions);
    // Ids like the gateway's (UUIDv7) and keys of every length class modulo 4 (murmur2's tail handling), non-ASCII too.
    const keys = Array.from({ length: 1_000 }, (_, i) =>
      i % 5 === 0 ? `ключ-${i}-é` : `${crypto.randomUUID()}${'x'.repeat(i % 4)}`,
    );
    const produce = async (client: ProducerClient, topic: string) => {
      const producer = createGatewayProducer({
        client,
        kafka: createKafka({ brokers: env.kafkaBrokers, clientId: `compat-${client}`, logger: testLogger }),
        brokers: env.kafkaBrokers,
        clientId: `compat-${client}`,
        topic,
        logger: testLogger,
        lingerMs: 5,
        maxBatchRecords: 200,
        timeoutMs: 20_000,
      });
      await producer.connect();
      const results = await producer.sendMany(keys.map((key) => ({ key, value: '{}' })));
      await producer.close();
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    };
    await produce('kafkajs', a.topic);
    await produce('platformatic', b.topic);
    const viaKafkajs = await recordsOf(env.kafkaBrokers, a.topic);
    const viaPlatformatic = await recordsOf(env.kafkaBrokers, b.topic);
    expect(viaKafkajs.keys).toHaveLength(keys.length);
    expect(viaPlatformatic.keys).toHaveLength(keys.length);
    const moved = keys.filter((k) => viaKafkajs.partitionOf.get(k) !== viaPlatformatic.partitionOf.get(k));
    expect(moved).toEqual([]);
    // The keys do spread over the partitions (a constant partition would also "agree").
    expect(new Set(viaPlatformatic.partitionOf.values()).size).toBe(partitions);
  });

  it('keeps the order of records with the same key across batches', async () => {
    const { topic } = await createTestTopics(env.kafkaBrokers, `${env.prefix}po`, 3);
    const producer = createGatewayProducer({
      client: 'platformatic',
      kafka: createKafka({ brokers: env.kafkaBrokers, clientId: 'order', logger: testLogger }),
      brokers: env.kafkaBrokers,
      clientId: 'order',
      topic,
      logger: testLogger,
      lingerMs: 0,
      maxBatchRecords: 7,
      timeoutMs: 20_000,
    });
    await producer.connect();
    const sends = Array.from({ length: 120 }, (_, i) => producer.send({ key: `k${i % 4}`, value: String(i) }));
    await Promise.all(sends);
    await producer.close();
    const written = await readTopic(env.kafkaBrokers, topic, 120);
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const values = written.filter((m) => m.key?.toString() === key).map((m) => Number(m.value?.toString()));
      expect(values).toEqual([...values].sort((x, y) => x - y));
      expect(values).toHaveLength(30);
    }
  });
});

/**
 * A private broker (own ports and data) that the tests freeze with SIGSTOP longer than the producer's deadline: the
 * record is answered 503 while the broker may still write it after SIGCONT.
 */
describe('the @platformatic/kafka gateway producer when the broker freezes during a send', () => {
  let dir: string;
  let server: KafkaServerOptions;
  let pid: number;
  let brokers: string[];
  let admin: Admin;

  beforeAll(async () => {
    const base = loadConfig();
    const paths = resolveInfraPaths(base.NOTIFY_HOME);
    dir = join(paths.home, `freeze-test-${env.prefix}`);
    mkdirSync(dir, { recursive: true });
    const libDir = await ensureKafkaJars({
      kafkaVersion: base.KAFKA_VERSION,
      kafkaDir: paths.kafkaDir,
      libDir: paths.kafkaLib,
      log: () => undefined,
    });
    const [port, controllerPort] = await freePorts(2);
    server = privateKafkaOptions(dir, { libDir, port: port ?? 0, controllerPort: controllerPort ?? 0 });
    pid = (await startKafka(server, () => undefined)).pid;
    brokers = [`127.0.0.1:${server.port}`];
    admin = createKafka({ brokers, clientId: 'freeze-admin', logger: testLogger }).admin();
    await admin.connect();
  }, 180_000);

  afterAll(async () => {
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    await admin?.disconnect();
    if (server !== undefined) await stopKafka(server);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function topicOf(name: string): Promise<string> {
    const topic = `${name}-${Date.now()}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    return topic;
  }

  /** Sends `key` until the producer acknowledges it (as a client retrying on 503 would); returns the attempts. */
  async function sendUntilAcknowledged(producer: BatchingProducer, key: string): Promise<number> {
    for (let attempt = 1; attempt <= 60; attempt++) {
      const ok = await producer.send({ key, value: String(attempt) }).then(
        () => true,
        () => false,
      );
      if (ok) return attempt;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${key} was never acknowledged`);
  }

  it('abandons a send to a frozen broker at the deadline, stores that record at most once and every later acknowledged record under a new producer id', async () => {
    const topic = await topicOf('renewed');
    // The library has no request timeout: without the transport's own deadline this send would wait for SIGCONT.
    const transport = new PlatformaticTransport({
      brokers,
      clientId: 'freeze-renew',
      topic,
      logger: testLogger,
      timeoutMs: 1_000,
      retries: 5,
      retryDelayMs: 100,
    });
    const producer = new BatchingProducer({
      transport,
      topic,
      logger: testLogger,
      lingerMs: 0,
      maxBatchRecords: 10,
      timeoutMs: 1_000,
    });
    await producer.connect();
    await producer.send({ key: 'warm', value: '0' });
    const producerId = transport.producerId;

    const frozen = producer.send({ key: 'frozen', value: '1' }).catch((err: unknown) => err);
    process.kill(pid, 'SIGSTOP');
    try {
      expect(await frozen).toBeInstanceOf(ProduceError);
      // Frozen well beyond the deadline: the abandoned request stays unanswered until SIGCONT.
      await new Promise((r) => setTimeout(r, 3_000));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The next record has the same batch size and would have had the same sequence number (0 after 'warm' … 1)
    // as the record the broker may have stored: under the old producer id it would be answered as a duplicate.
    const acknowledged: string[] = [];
    for (const key of ['after-1', 'after-2', 'after-3']) {
      await sendUntilAcknowledged(producer, key);
      acknowledged.push(key);
    }
    await producer.close();

    expect(transport.producerId).not.toBe(producerId);
    expect(transport.producerId).not.toBeUndefined();
    const { keys } = await recordsOf(brokers, topic);
    for (const key of acknowledged) expect(keys, `${key} was acknowledged but not stored`).toContain(key);
    expect(keys.filter((k) => k === 'frozen').length).toBeLessThanOrEqual(1);
    expect(keys.filter((k) => k === 'warm')).toEqual(['warm']);
  }, 120_000);
});
