import { describe, expect, it } from 'vitest';
import { replicationFor, TopicConfigError, waitForTopicReady } from './topics.js';

describe('replication of the topics notify creates', () => {
  it('picks 3 replicas with min ISR 2 on a cluster of 3 or more brokers when KAFKA_REPLICATION_FACTOR is unset', () => {
    expect(replicationFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(5)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('uses the broker count on smaller clusters (a single broker gets 1 replica, min ISR 1)', () => {
    expect(replicationFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(replicationFor(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
  });

  it('honours a configured factor that the cluster can hold', () => {
    expect(replicationFor(5, 5)).toEqual({ replicationFactor: 5, minInsyncReplicas: 2 });
    expect(replicationFor(3, 1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });

  it('refuses a factor larger than the broker count with an error naming KAFKA_REPLICATION_FACTOR', () => {
    expect(() => replicationFor(1, 3)).toThrow(TopicConfigError);
    expect(() => replicationFor(1, 3)).toThrow(/KAFKA_REPLICATION_FACTOR=3 .* 1 broker/);
  });
});

describe('topic metadata right after creation', () => {
  const unknownTopic = Object.assign(new Error('This server does not host this topic-partition'), {
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
    retriable: true,
  });

  it('waits while a broker does not know a just-created topic yet, then returns its metadata', async () => {
    let calls = 0;
    const admin = {
      fetchTopicMetadata: () => {
        calls += 1;
        if (calls < 3) return Promise.reject(unknownTopic);
        return Promise.resolve({ topics: [{ name: 't', partitions: [] }] });
      },
    };
    await expect(waitForTopicReady(admin as never, 't', { timeoutMs: 5_000 })).resolves.toEqual({
      topics: [{ name: 't', partitions: [] }],
    });
    expect(calls).toBe(3);
  });

  it('waits until every partition has a leader', async () => {
    let calls = 0;
    const admin = {
      fetchTopicMetadata: () => {
        calls += 1;
        return Promise.resolve({
          topics: [{ name: 't', partitions: [{ partitionId: 0, leader: calls < 2 ? -1 : 1 }] }],
        });
      },
    };
    const meta = await waitForTopicReady(admin as never, 't', { timeoutMs: 5_000 });
    expect(meta.topics[0]?.partitions[0]?.leader).toBe(1);
    expect(calls).toBe(2);
  });

  it("waits for a readiness of its caller's choosing and, past the deadline, names each partition's leader", async () => {
    let calls = 0;
    const admin = {
      fetchTopicMetadata: () => {
        calls += 1;
        return Promise.resolve({
          topics: [{ name: 't', partitions: [{ partitionId: 0, leader: calls < 3 ? 1 : 2 }] }],
        });
      },
    };
    const ledBy2 = (meta: { topics: Array<{ partitions: Array<{ leader: number }> }> }) =>
      meta.topics[0]?.partitions[0]?.leader === 2;
    const meta = await waitForTopicReady(admin as never, 't', { timeoutMs: 5_000, ready: ledBy2 });
    expect(meta.topics[0]?.partitions[0]?.leader).toBe(2);
    expect(calls).toBe(3);
    await expect(waitForTopicReady(admin as never, 't', { timeoutMs: 300, ready: () => false })).rejects.toThrow(
      'topic t not ready within 300 ms (partition→leader: 0→2)',
    );
    const asIs = await waitForTopicReady(admin as never, 't', {
      timeoutMs: 300,
      ready: () => false,
      onTimeout: 'return',
    });
    expect(asIs.topics[0]?.partitions[0]?.leader).toBe(2);
  });

  it('gives up after its deadline, and never retries other errors', async () => {
    await expect(
      waitForTopicReady({ fetchTopicMetadata: () => Promise.reject(unknownTopic) }, 't', { timeoutMs: 300 }),
    ).rejects.toThrow(/does not host/);
    let calls = 0;
    const broken = {
      fetchTopicMetadata: () => ((calls += 1), Promise.reject(new Error('SASL authentication failed'))),
    };
    await expect(waitForTopicReady(broken as never, 't', { timeoutMs: 5_000 })).rejects.toThrow(/SASL/);
    expect(calls).toBe(1);
  });
});
