import { describe, expect, it } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import { createTestTopics, readTopic, testLogger } from '../../test/helpers/kafka.js';
import { BatchingProducer, ProduceError } from './batching-producer.js';
import { createKafka } from './create-kafka.js';

const env = testEnvironment();

describe('BatchingProducer', () => {
  it('acknowledges every record once Kafka wrote it and batches concurrent sends into few requests', async () => {
    const { topic } = await createTestTopics(env.kafkaBrokers, `${env.prefix}p`, 3);
    const batches: number[] = [];
    const producer = new BatchingProducer({
      kafka: createKafka({ brokers: env.kafkaBrokers, clientId: 'producer-test', logger: testLogger }),
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
    const results = await producer.sendMany(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(300);
    expect(batches.length).toBeLessThan(30);
    expect(producer.isConnected()).toBe(true);
    await producer.close();
    const written = await readTopic(env.kafkaBrokers, topic, 300);
    expect(new Set(written.map((m) => m.key?.toString())).size).toBe(300);
  });

  it('fails records with ProduceError within the deadline and reports not ready when no broker answers', async () => {
    const producer = new BatchingProducer({
      kafka: createKafka({ brokers: ['127.0.0.1:1'], clientId: 'producer-down', logger: testLogger, retry: { retries: 1, initialRetryTime: 50 } }),
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
