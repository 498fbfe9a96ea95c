import { loadConfig, resolveEndpoints } from '../config/config.js';
import { createKafka } from '../kafka/create-kafka.js';
import { ensureTopics } from '../kafka/topics.js';
import { createLogger } from '../logging/create-logger.js';
import { onShutdown } from '../runtime/shutdown.js';
import { connectTemporal } from '../temporal/connect.js';
import { NotificationClient } from '../temporal/notification-client.js';
import { IngestConsumer } from './ingest-consumer.js';
import { buildWorkflowInput, isPermanentStartError } from './workflow-input.js';

/** Ingest entry point: `npm run ingest`. Run several for more throughput (up to the partition count). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, component: 'ingest' });
  const { kafkaBrokers, temporalAddress } = resolveEndpoints(config);
  const kafka = createKafka({ brokers: kafkaBrokers, clientId: `${config.KAFKA_CLIENT_ID}-ingest`, logger });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, { topic: config.KAFKA_TOPIC, dlqTopic: config.KAFKA_DLQ_TOPIC, partitions: config.KAFKA_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR, retentionMs: config.KAFKA_TOPIC_RETENTION_MS }, logger);
  await admin.disconnect();

  const { client, connection } = await connectTemporal({ address: temporalAddress, namespace: config.TEMPORAL_NAMESPACE });
  const starter = new NotificationClient(client, { taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX });
  const consumer = new IngestConsumer({
    kafka,
    topic: config.KAFKA_TOPIC,
    dlqTopic: config.KAFKA_DLQ_TOPIC,
    groupId: config.KAFKA_CONSUMER_GROUP,
    starter,
    buildInput: (envelope) => buildWorkflowInput(envelope, config),
    logger,
    concurrency: config.INGEST_CONCURRENCY,
    partitionsConcurrently: config.KAFKA_PARTITIONS,
    maxRecordBytes: config.INGEST_MAX_RECORD_BYTES,
    startTimeoutMs: config.TEMPORAL_START_TIMEOUT_MS,
    backoffMaxMs: config.INGEST_BACKOFF_MAX_MS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    isPermanentStartError,
  });
  await consumer.start();
  logger.info({ topic: config.KAFKA_TOPIC, group: config.KAFKA_CONSUMER_GROUP }, 'ingest consuming');
  onShutdown(logger, async () => {
    await consumer.stop();
    await connection.close();
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
