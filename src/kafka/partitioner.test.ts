import { Partitioners } from 'kafkajs';
import { murmur2 as platformaticMurmur2 } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from './partitioner.js';

/** kafkajs 2.2.4's default partitioner over `count` partitions, all with a leader. */
function kafkajsPartition(key: string, count: number): number {
  const partitionMetadata = Array.from({ length: count }, (_, i) => ({
    partitionId: i,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
  return Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata, message: { key, value: '' } });
}

const keys = Array.from({ length: 5_000 }, (_, i) =>
  i % 7 === 0 ? `ключ-${i}-é-😀` : `${crypto.randomUUID()}${'x'.repeat(i % 4)}`,
);

describe('partitionForKey', () => {
  it('chooses the partition kafkajs chooses for every key, whatever the partition count', () => {
    for (const count of [1, 2, 3, 6, 7, 12, 64, 1_000]) {
      const differing = keys.filter((k) => partitionForKey(Buffer.from(k), count) !== kafkajsPartition(k, count));
      expect(differing, `${count} partitions`).toEqual([]);
    }
  });

  it("differs from @platformatic/kafka's own default mapping (murmur2 >>> 0) for some keys, which is why it is passed", () => {
    const differing = keys.filter(
      (k) => (platformaticMurmur2(Buffer.from(k)) >>> 0) % 6 !== partitionForKey(Buffer.from(k), 6),
    );
    expect(differing.length).toBeGreaterThan(keys.length / 4);
  });
});
