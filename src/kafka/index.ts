/** Kafka plumbing shared by the gateway and ingest: client factory, topics, envelope format, batching producer. */
export { createKafka, KAFKA_STARTUP_TRANSIENTS, KAFKA_STARTUP_WINDOW_MS, kafkaLogHandler } from './create-kafka.js';
export type { KafkaClientOptions, KafkaLogEntry } from './create-kafka.js';
export {
  DEFAULT_REPLICATION_FACTOR,
  ensureTopics,
  everyPartitionLed,
  replicationFor,
  TopicConfigError,
  waitForTopicReady,
} from './topics.js';
export type { TopicMetadata, TopicReadyOptions, TopicSpec } from './topics.js';
export {
  BODY_HASH_PURPOSE,
  BodyHasher,
  canonicalJson,
  encodeEnvelope,
  hashCanonicalJson,
  hashRequest,
  HEADERS,
} from './envelope.js';
export type { NotificationEnvelope } from './envelope.js';
export { BatchingProducer, ProduceError } from './batching-producer.js';
export type { BatchingProducerOptions, OutgoingMessage } from './batching-producer.js';
