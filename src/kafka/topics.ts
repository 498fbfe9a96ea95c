import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';

/** Desired shape of the application's topics; created at start-up because the broker's auto-create is off. */
export interface TopicSpec {
  topic: string;
  dlqTopic: string;
  partitions: number;
  replicationFactor: number;
  retentionMs: number;
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
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.numPartitions,
          replicationFactor: spec.replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: String(t.topic === spec.dlqTopic ? spec.retentionMs * 4 : spec.retentionMs) },
            { name: 'min.insync.replicas', value: String(Math.max(1, Math.min(2, spec.replicationFactor - 1))) },
          ],
        })),
      });
      logger.info({ topics: missing.map((t) => t.topic) }, 'created topics');
    } catch (err) {
      // Another process may have created them concurrently.
      if (!(err instanceof Error && /already exists/i.test(err.message))) throw err;
    }
  }
  const meta = await admin.fetchTopicMetadata({ topics: [spec.topic] });
  const partitions = meta.topics[0]?.partitions.length ?? 0;
  if (partitions < spec.partitions) {
    logger.warn({ topic: spec.topic, partitions, configured: spec.partitions }, 'topic has fewer partitions than configured; left unchanged');
  }
}
