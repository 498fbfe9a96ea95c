import type { Kafka, ProducerConfig, ProducerRecord } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BatchingProducer, ProduceError } from './batching-producer.js';

/**
 * A kafkajs stand-in whose `producer.send` is decided by the test (this file tests the queue, not Kafka). Like kafkajs,
 * it runs the producer's partitioner on every message (one partition here) and answers a successful send with one
 * acknowledgement per partition written.
 */
function fakeKafka(send: (record: ProducerRecord) => Promise<unknown>): { kafka: Kafka; sends: ProducerRecord[] } {
  const sends: ProducerRecord[] = [];
  const partitionMetadata = [{ partitionId: 0, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }];
  const producer = (options?: ProducerConfig) => {
    const partitioner = options?.createPartitioner?.();
    return {
      events: { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' },
      on: () => () => undefined,
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      send: async (record: ProducerRecord) => {
        sends.push(record);
        for (const message of record.messages) partitioner?.({ topic: record.topic, partitionMetadata, message });
        await send(record);
        return [{ topicName: record.topic, partition: 0, errorCode: 0 }];
      },
    };
  };
  const admin = () => ({
    connect: () => Promise.reject(new Error('no broker in this test')),
    fetchTopicMetadata: () => Promise.reject(new Error('no broker in this test')),
    disconnect: () => Promise.resolve(),
  });
  return { kafka: { producer, admin } as unknown as Kafka, sends };
}

const logger = pino({ level: 'silent' });
const outcome = (p: Promise<void>) =>
  p.then(
    () => 'written' as const,
    (err: unknown) => err,
  );

describe('BatchingProducer deadlines and batch failures', () => {
  it('fails a record waiting behind a stuck batch at its own deadline, without a second send in flight', async () => {
    const { kafka, sends } = fakeKafka(() => new Promise(() => undefined));
    const producer = new BatchingProducer({
      kafka,
      topic: 't',
      logger,
      lingerMs: 0,
      maxBatchRecords: 10,
      timeoutMs: 300,
    });
    await producer.connect();
    const first = outcome(producer.send({ key: 'a', value: '1' }));
    await new Promise((r) => setTimeout(r, 100));
    const queuedAt = performance.now();
    const second = outcome(producer.send({ key: 'b', value: '2' }));
    expect(await first).toBeInstanceOf(ProduceError);
    const secondOutcome = await second;
    expect(secondOutcome).toBeInstanceOf(ProduceError);
    // Its own deadline, counted from its own send (not the first record's, not the stuck batch's).
    expect(performance.now() - queuedAt).toBeGreaterThanOrEqual(290);
    // The idempotent producer never gets a second send while the first is unanswered.
    expect(sends).toHaveLength(1);
    expect(producer.isConnected()).toBe(false);
  });

  it('fails each record of a failed batch with ProduceError and resolves each record of the next batch', async () => {
    let fail = true;
    const { kafka, sends } = fakeKafka(() =>
      fail ? Promise.reject(new Error('NOT_ENOUGH_REPLICAS')) : Promise.resolve([]),
    );
    const producer = new BatchingProducer({
      kafka,
      topic: 't',
      logger,
      lingerMs: 5,
      maxBatchRecords: 100,
      timeoutMs: 5_000,
    });
    await producer.connect();
    const failed = await producer.sendMany([1, 2, 3].map((i) => ({ key: `k${i}`, value: String(i) })));
    expect(sends).toHaveLength(1);
    expect(sends[0]?.messages).toHaveLength(3);
    for (const r of failed) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ProduceError);
    }
    fail = false;
    const written = await producer.sendMany([4, 5].map((i) => ({ key: `k${i}`, value: String(i) })));
    expect(written.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(sends[1]?.messages.map((m) => m.key)).toEqual(['k4', 'k5']);
    expect(producer.isConnected()).toBe(true);
    await producer.close();
  });
});
