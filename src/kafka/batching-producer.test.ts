import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import { createTestTopics, readTopic, testLogger } from '../../test/helpers/kafka.js';
import { BatchingProducer, ProduceError } from './batching-producer.js';
import { createKafka } from './create-kafka.js';
import { createGatewayProducer, PRODUCER_CLIENTS } from './gateway-producer.js';

const env = testEnvironment();

describe.each(PRODUCER_CLIENTS)('BatchingProducer on %s', (client) => {
  it('acknowledges every record once Kafka wrote it and batches concurrent sends into few requests', async () => {
    const { topic } = await createTestTopics(env.kafkaBrokers, `${env.prefix}p-${client}`, 3);
    const batches: number[] = [];
    const producer = createGatewayProducer({
      client,
      kafka: createKafka({ brokers: env.kafkaBrokers, clientId: 'producer-test', logger: testLogger }),
      brokers: env.kafkaBrokers,
      clientId: 'producer-test',
      topic,
      logger: testLogger,
      lingerMs: 5,
      maxBatchRecords: 500,
      timeoutMs: 10_000,
      onBatch: ({ records, ok }) => {
        if (ok) batches.push(records);
      },
    });
    await producer.connect();
    const results = await producer.sendMany(
      Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(300);
    expect(batches.length).toBeLessThan(30);
    expect(producer.isConnected()).toBe(true);
    await producer.close();
    const written = await readTopic(env.kafkaBrokers, topic, 300);
    expect(new Set(written.map((m) => m.key?.toString())).size).toBe(300);
  });

  it('fails records with ProduceError within the deadline and reports not ready when no broker answers', async () => {
    const producer = createGatewayProducer({
      client,
      kafka: createKafka({
        brokers: ['127.0.0.1:1'],
        clientId: 'producer-down',
        logger: testLogger,
        retry: { retries: 1, initialRetryTime: 50 },
      }),
      brokers: ['127.0.0.1:1'],
      clientId: 'producer-down',
      topic: 'nowhere',
      logger: testLogger,
      lingerMs: 0,
      maxBatchRecords: 10,
      timeoutMs: 1_500,
    });
    const outcome = await producer.send({ key: 'a', value: '{}' }).then(
      () => 'written',
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(ProduceError);
    expect(producer.isConnected()).toBe(false);
    await producer.close().catch(() => undefined);
  });
});

describe('BatchingProducer readiness probe during an outage', () => {
  it('runs one metadata probe at a time, however long a probe hangs, and keeps probing', async () => {
    vi.useFakeTimers();
    try {
      let created = 0;
      let open = 0;
      let maxOpen = 0;
      // A broker that is down: produce fails, and an admin connect never answers.
      const kafka = {
        producer: () => ({
          events: { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' },
          on: () => undefined,
          connect: () => Promise.resolve(),
          disconnect: () => Promise.resolve(),
          send: () => Promise.reject(new Error('broker down')),
        }),
        admin: () => {
          created += 1;
          open += 1;
          maxOpen = Math.max(maxOpen, open);
          let closed = false;
          return {
            connect: () => new Promise<void>(() => undefined),
            fetchTopicMetadata: () => Promise.resolve({ topics: [] }),
            disconnect: () => {
              if (!closed) open -= 1;
              closed = true;
              return Promise.resolve();
            },
          };
        },
      } as unknown as Kafka;
      const producer = new BatchingProducer({
        kafka,
        topic: 't',
        logger: testLogger,
        lingerMs: 0,
        maxBatchRecords: 10,
        timeoutMs: 1_000,
      });
      const outcome = producer.send({ key: 'a', value: '{}' }).catch((err: unknown) => err);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(await outcome).toBeInstanceOf(ProduceError);
      expect(producer.isConnected()).toBe(false);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(maxOpen).toBe(1);
      expect(created).toBeGreaterThan(1);
      await producer.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
