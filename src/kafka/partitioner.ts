/**
 * Kafka's murmur2 hash of a record key, as Java's `Utils.murmur2` and kafkajs 2.2.4 compute it (signed 32-bit result).
 * Written with `Math.imul` (no BigInt), since it runs once per record on the gateway's hot path.
 */
export function murmur2(key: Buffer): number {
  const m = 0x5bd1e995;
  const length = key.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (key[i] ?? 0) | ((key[i + 1] ?? 0) << 8) | ((key[i + 2] ?? 0) << 16) | ((key[i + 3] ?? 0) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (key[whole + 2] ?? 0) << 16;
  if (rest >= 2) h ^= (key[whole + 1] ?? 0) << 8;
  if (rest >= 1) h = Math.imul(h ^ (key[whole] ?? 0), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition of a keyed record among `partitions`, exactly as kafkajs' `DefaultPartitioner` and Java's
 * `BuiltInPartitioner` choose it: `(murmur2(key) & 0x7fffffff) % partitions`. `@platformatic/kafka`'s own default is
 * `murmur2(key) >>> 0`, which sends about half the keys elsewhere: during a rolling upgrade from kafkajs, or with a
 * Java producer next to it, the same notification id would land on two partitions (no ordering per key).
 */
export function partitionForKey(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
