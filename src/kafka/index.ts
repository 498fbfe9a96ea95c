/** Kafka plumbing shared by the gateway and ingest: client factory, topics, envelope format, batching producer. */
export { createKafka } from './create-kafka.js';
export type { KafkaClientOptions } from './create-kafka.js';
export { DEFAULT_REPLICATION_FACTOR, ensureTopics, replicationFor, TopicConfigError } from './topics.js';
export type { TopicSpec } from './topics.js';
export { canonicalJson, encodeEnvelope, hashRequest, HEADERS } from './envelope.js';
export type { NotificationEnvelope } from './envelope.js';
export { BatchingProducer, ProduceError } from './batching-producer.js';
export type { BatchingProducerOptions, OutgoingMessage } from './batching-producer.js';
