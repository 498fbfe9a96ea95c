import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';

/** Desired shape of the application's topics; created at start-up because the broker's auto-create is off. */
export interface TopicSpec {
  topic: string;
  dlqTopic: string;
  partitions: number;
  /**
   * Replicas per partition (config KAFKA_REPLICATION_FACTOR). Unset: picked from the cluster size, 3 on a cluster of
   * 3 or more brokers (survives one broker down with `min.insync.replicas` 2), else the broker count.
   */
  replicationFactor?: number;
  retentionMs: number;
}

/** Replicas when KAFKA_REPLICATION_FACTOR is unset and the cluster is large enough. */
export const DEFAULT_REPLICATION_FACTOR = 3;

/** Thrown when the configured replication factor cannot be met by the cluster; names the setting. */
export class TopicConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicConfigError';
  }
}

/**
 * The replication factor and `min.insync.replicas` for new topics on a cluster of `brokers` brokers (pure).
 * With acks=all a write is acknowledged once `minIsr` replicas have it, so one broker may fail without losing an
 * acknowledged record or refusing writes: min ISR = RF − 1, at most 2 (1 on a single broker).
 */
export function replicationFor(
  brokers: number,
  configured?: number,
): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = configured ?? Math.max(1, Math.min(DEFAULT_REPLICATION_FACTOR, brokers));
  if (replicationFactor > brokers) {
    throw new TopicConfigError(
      `KAFKA_REPLICATION_FACTOR=${replicationFactor} but the Kafka cluster has ${brokers} broker(s) available: lower KAFKA_REPLICATION_FACTOR (or unset it to pick from the cluster size), or add brokers.`,
    );
  }
  return { replicationFactor, minInsyncReplicas: Math.max(1, Math.min(2, replicationFactor - 1)) };
}

/**
 * Creates the ingress and dead-letter topics when missing. Existing topics are left alone (a partition count lower than
 * configured is logged, never changed silently: repartitioning moves keys between partitions).
 */
export async function ensureTopics(admin: Admin, spec: TopicSpec, logger: Logger): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    { topic: spec.topic, numPartitions: spec.partitions },
    // The DLQ is small and rarely read: fewer partitions, longer retention so operators have time to inspect it.
    { topic: spec.dlqTopic, numPartitions: Math.min(spec.partitions, 3) },
  ];
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    // Checked only when creating: an existing topic keeps working while a broker is down.
    const { brokers } = await admin.describeCluster();
    const { replicationFactor, minInsyncReplicas } = replicationFor(brokers.length, spec.replicationFactor);
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.numPartitions,
          replicationFactor,
          configEntries: [
            {
              name: 'retention.ms',
              value: String(t.topic === spec.dlqTopic ? spec.retentionMs * 4 : spec.retentionMs),
            },
            { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
            { name: 'unclean.leader.election.enable', value: 'false' },
          ],
        })),
      });
      logger.info({ topics: missing.map((t) => t.topic), replicationFactor, minInsyncReplicas }, 'created topics');
    } catch (err) {
      // Another process may have created them concurrently. UNKNOWN_TOPIC_OR_PARTITION comes from kafkajs's own
      // wait for leaders when the broker it asks has not seen the new topic yet: created; the wait below covers it.
      const createdNotPropagated = (err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
      if (!createdNotPropagated && !(err instanceof Error && /already exists/i.test(err.message))) throw err;
    }
  }
  // Leaderless partitions past the deadline do not stop the start: the others take writes.
  const meta = await waitForTopicReady(admin, spec.topic, { onTimeout: 'return' });
  const partitions = meta.topics[0]?.partitions.length ?? 0;
  if (partitions < spec.partitions) {
    logger.warn(
      { topic: spec.topic, partitions, configured: spec.partitions },
      'topic has fewer partitions than configured; left unchanged',
    );
  }
}

/** Metadata of one topic, as kafkajs' `fetchTopicMetadata` answers it. */
export type TopicMetadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

/** Default readiness: every partition has a leader (a leaderless partition, leader -1, refuses produces). */
export const everyPartitionLed = (meta: TopicMetadata): boolean =>
  meta.topics.length > 0 && meta.topics.every((t) => t.partitions.every((p) => p.leader >= 0));

/** Options of {@link waitForTopicReady}. */
export interface TopicReadyOptions {
  timeoutMs?: number;
  /** What "ready" means (default {@link everyPartitionLed}), e.g. that given brokers lead given partitions. */
  ready?: (meta: TopicMetadata) => boolean;
  /** Past the deadline with the topic known but not ready: `throw` (default) or `return` the metadata as it is. */
  onTimeout?: 'throw' | 'return';
}

/**
 * Topic metadata once the topic is ready, waiting (bounded): right after `createTopics` on a multi-broker cluster,
 * another broker can answer "does not host this topic-partition" until the controller's metadata reaches it, a
 * partition can still be without a leader, and after a broker failure leadership moves. Any other error, or
 * UNKNOWN_TOPIC_OR_PARTITION past `timeoutMs`, is thrown. Used by topic creation and by the tests that move leaders.
 */
export async function waitForTopicReady(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topic: string,
  options: TopicReadyOptions = {},
): Promise<TopicMetadata> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const ready = options.ready ?? everyPartitionLed;
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 1_000)) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      if (ready(meta)) return meta;
      if (Date.now() + delayMs > deadline) {
        if (options.onTimeout === 'return') return meta;
        const leaders = meta.topics[0]?.partitions.map((p) => `${p.partitionId}→${p.leader}`).join(', ') ?? '';
        throw new Error(`topic ${topic} not ready within ${timeoutMs} ms (partition→leader: ${leaders})`);
      }
    } catch (err) {
      const unknownYet = (err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
      if (!unknownYet || Date.now() + delayMs > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
