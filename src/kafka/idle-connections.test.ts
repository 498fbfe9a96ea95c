import { describe, expect, it, vi } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import { createTestTopics, testLogger } from '../../test/helpers/kafka.js';
import { createKafka } from './create-kafka.js';
import { kafkajsRequestQueueClass } from './kafkajs-request-queue-fix.js';

const env = testEnvironment();

describe('kafkajs connections at rest', () => {
  it('an idle producer and consumer on a real broker check their request queues a few times per second, not about a thousand', async () => {
    const { topic } = await createTestTopics(env.kafkaBrokers, `${env.prefix}idle`, 1);
    const kafka = createKafka({ brokers: env.kafkaBrokers, clientId: 'idle-test', logger: testLogger });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: `${env.prefix}idle-group`, maxWaitTimeInMs: 500 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let consumed = 0;
    await consumer.run({
      eachMessage: () => {
        consumed++;
        return Promise.resolve();
      },
    });
    await vi.waitFor(() => expect(consumed).toBe(1), { timeout: 30_000, interval: 100 });

    const checks = vi.spyOn(kafkajsRequestQueueClass().prototype, 'checkPendingRequests');
    try {
      await new Promise((r) => setTimeout(r, 2_000));
      // Each answered request (a fetch every maxWaitTimeInMs, heartbeats) runs one check; the unfixed loop runs one
      // per millisecond per connection (≈ 2,000 per connection here).
      expect(checks.mock.calls.length).toBeLessThan(100);
    } finally {
      checks.mockRestore();
      await consumer.disconnect();
      await producer.disconnect();
    }
  });
});
