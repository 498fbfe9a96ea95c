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
export { BatchingProducer, KafkajsTransport, ProduceError } from './batching-producer.js';
export type { BatchingProducerOptions, OutgoingMessage, ProducerTransport } from './batching-producer.js';
export { createGatewayProducer, PRODUCER_CLIENTS } from './gateway-producer.js';
export type { GatewayProducerOptions, ProducerClient } from './gateway-producer.js';
export { murmur2, partitionForKey } from './partitioner.js';
export { applyKafkajsRequestQueueFix, KAFKAJS_FIXED_VERSION } from './kafkajs-request-queue-fix.js';
export { PlatformaticTransport, platformaticSecurity } from './platformatic-transport.js';
export type { PlatformaticTransportOptions } from './platformatic-transport.js';
