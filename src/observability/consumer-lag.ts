import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';

/** Options of {@link startLagPoller}. */
export interface LagPollerOptions {
  /** A connected kafkajs admin client (the poller does not connect or disconnect it). */
  admin: Admin;
  topic: string;
  groupId: string;
  gauge: Gauge<'topic' | 'partition'>;
  intervalMs: number;
  logger: Logger;
}

/** Per-partition lag of a consumer group: log end offset minus committed offset (all of the retained log if none). */
export async function fetchConsumerLag(admin: Admin, topic: string, groupId: string): Promise<Map<number, number>> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committedByPartition = new Map<number, bigint>();
  for (const t of committed) for (const p of t.partitions) committedByPartition.set(p.partition, BigInt(p.offset));
  const lag = new Map<number, number>();
  for (const p of ends) {
    const high = BigInt(p.high);
    const low = BigInt(p.low);
    const c = committedByPartition.get(p.partition) ?? -1n;
    // -1 = nothing committed yet: the group (fromBeginning) still has to read everything retained.
    const from = c < 0n ? low : c < low ? low : c;
    lag.set(p.partition, Number(high > from ? high - from : 0n));
  }
  return lag;
}

/**
 * Polls the consumer lag per partition into `gauge` every `intervalMs`. Lag is the signal that ingest is behind or
 * stalled (kafkajs consumers have been seen to stall silently after broker restarts). Errors are logged, never thrown.
 * Returns a stop function.
 */
export function startLagPoller(options: LagPollerOptions): { stop: () => Promise<void>; poll: () => Promise<void> } {
  let current: Promise<void> | undefined;
  const poll = async () => {
    try {
      const lag = await fetchConsumerLag(options.admin, options.topic, options.groupId);
      for (const [partition, value] of lag)
        options.gauge.set({ topic: options.topic, partition: String(partition) }, value);
    } catch (err) {
      options.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'consumer lag poll failed',
      );
    }
  };
  const timer = setInterval(() => {
    current ??= poll().finally(() => {
      current = undefined;
    });
  }, options.intervalMs);
  timer.unref();
  return {
    poll,
    stop: async () => {
      clearInterval(timer);
      await current;
    },
  };
}
