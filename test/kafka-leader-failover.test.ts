import type { Admin, KafkaMessage } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../src/kafka/create-kafka.js';
import { createGatewayProducer, PRODUCER_CLIENTS } from '../src/kafka/gateway-producer.js';
import { partitionForKey } from '../src/kafka/partitioner.js';
import { startPrivateKafkaCluster } from './helpers/cluster.js';
import type { PrivateKafkaCluster } from './helpers/cluster.js';
import { testLogger } from './helpers/kafka.js';

/**
 * The gateway's producer when a partition leader dies in the middle of a send, on 3 real KRaft brokers.
 *
 * Found by the cluster broker-kill test (1 of 354 acknowledged notifications never delivered, no 503): kafkajs 2.2.4
 * keeps, across the retries of one send, the answers of the brokers that already acknowledged their partitions and
 * retries only the others. A partition that moves to such a broker is never sent again, yet the send resolves.
 */
let cluster: PrivateKafkaCluster;
let admin: Admin;

beforeAll(async () => {
  // A killed broker is fenced (and its partitions moved) after the broker session timeout: 4 s instead of 9 s.
  cluster = await startPrivateKafkaCluster('leader-failover', {
    'broker.session.timeout.ms': 4_000,
    'broker.heartbeat.interval.ms': 1_000,
  });
  admin = createKafka({ brokers: cluster.brokers, clientId: 'failover-admin', logger: testLogger }).admin();
  await admin.connect();
}, 300_000);
// Each client's test kills broker 1: the next one starts with all three brokers again.
afterEach(async () => {
  await cluster.startBroker(1);
}, 180_000);
afterAll(async () => {
  await admin?.disconnect();
  await cluster?.dispose();
}, 120_000);

/**
 * A key that kafkajs' default partitioner puts on `partition` of a `count`-partition topic (`partitionForKey` is that
 * mapping, proven equal to kafkajs' in src/kafka/partitioner.test.ts).
 */
function keyFor(partition: number, count: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}-${i}`;
    if (partitionForKey(Buffer.from(key, 'utf8'), count) === partition) return key;
  }
}

/** Every key stored in `topic` (read from the beginning until `expected` are all seen or 30 s passed). */
async function keysIn(topic: string, expected: string[]): Promise<Set<string>> {
  const kafka = createKafka({ brokers: cluster.brokers, clientId: 'failover-reader', logger: testLogger });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  const seen = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    void consumer.run({
      eachMessage: ({ message }: { message: KafkaMessage }) => {
        seen.add(message.key?.toString() ?? '');
        if (expected.every((k) => seen.has(k))) {
          clearTimeout(timer);
          resolve();
        }
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

describe.each(PRODUCER_CLIENTS)(
  'the gateway producer on %s when a partition leader is killed during a send',
  (client) => {
    it('acknowledges a record only once Kafka stored it, also when its partition moves to a broker that already answered the same send', async () => {
      const topic = `failover-${client}-${Date.now()}`;
      // Partition 0 lives on brokers 1 and 2 (leader 1), partition 1 on 2 and 1 (leader 2): when broker 1 dies,
      // partition 0 can only move to broker 2, which has already acknowledged partition 1 in the same send.
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            replicaAssignment: [
              { partition: 0, replicas: [1, 2] },
              { partition: 1, replicas: [2, 1] },
            ],
            configEntries: [
              { name: 'min.insync.replicas', value: '1' },
              { name: 'unclean.leader.election.enable', value: 'false' },
            ],
          },
        ],
      });
      await cluster.waitForLeaders(topic, [1, 2], 30_000);
      const producer = createGatewayProducer({
        client,
        kafka: createKafka({ brokers: cluster.brokers, clientId: 'failover-producer', logger: testLogger }),
        brokers: cluster.brokers,
        clientId: `failover-producer-${client}`,
        topic,
        logger: testLogger,
        lingerMs: 50,
        maxBatchRecords: 100,
        timeoutMs: 60_000,
      });
      await producer.connect();
      const warm = [keyFor(0, 2, 'warm'), keyFor(1, 2, 'warm')];
      const warmResults = await producer.sendMany(warm.map((key) => ({ key, value: '{}' })));
      expect(warmResults.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);

      cluster.killBroker(1);
      // One batch with a record for each partition: broker 2 answers for partition 1 at once; partition 0's leader is
      // gone until the controller fences broker 1 and makes broker 2 its leader.
      const keys = [keyFor(0, 2, 'during'), keyFor(1, 2, 'during')];
      const results = await producer.sendMany(keys.map((key) => ({ key, value: '{}' })));
      expect(await cluster.leaderOf(topic, 0)).toBe(2);
      const acknowledged = keys.filter((_, i) => results[i]?.status === 'fulfilled');
      const stored = await keysIn(topic, [...warm, ...acknowledged]);
      await producer.close();
      const notStored = acknowledged.filter((k) => !stored.has(k));
      expect(notStored, 'records the producer acknowledged but Kafka never stored').toEqual([]);
      expect(acknowledged).toEqual(keys);
    }, 240_000);
  },
);
