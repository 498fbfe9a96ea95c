import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { channelRegistry } from '../../src/channels/registry.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    temporalAddress: string;
    temporalNamespace: string;
    databaseUrl: string;
  }
}

/** Endpoints of the real Kafka and Temporal the global setup ensured, plus a unique prefix for this test file. */
export function testEnvironment(): {
  kafkaBrokers: string[];
  temporalAddress: string;
  namespace: string;
  prefix: string;
} {
  return {
    kafkaBrokers: inject('kafkaBrokers'),
    temporalAddress: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    prefix: uniquePrefix(),
  };
}

/** A short unique lowercase prefix for topics, groups, task queues and ids of one test. */
export function uniquePrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

/**
 * Settings that give a test its own slice of the shared Kafka and Temporal: topics, consumer group and task queues
 * named after its prefix (3 partitions).
 */
export function isolatedEnv(t: {
  kafkaBrokers: string[];
  temporalAddress: string;
  namespace: string;
  prefix: string;
}): Record<string, string> {
  return {
    KAFKA_BROKERS: t.kafkaBrokers.join(','),
    TEMPORAL_ADDRESS: t.temporalAddress,
    TEMPORAL_NAMESPACE: t.namespace,
    TEMPORAL_TASK_QUEUE_PREFIX: t.prefix,
    KAFKA_TOPIC: `${t.prefix}.notifications`,
    KAFKA_DLQ_TOPIC: `${t.prefix}.notifications.dlq`,
    KAFKA_CONSUMER_GROUP: `${t.prefix}-ingest`,
    KAFKA_PARTITIONS: '3',
    // Delivery events need an events worker; the tests of that feature turn them on (test/events.test.ts).
    WEBHOOK_EVENTS_ENABLED: 'false',
  };
}

/**
 * Retry settings for every registered channel that make failure paths finish quickly: 100 ms initial interval,
 * 300 ms maximum, 3 attempts; optionally a shorter sender timeout.
 */
export function fastRetryEnv(options: { senderTimeoutMs?: number } = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { name } of channelRegistry) {
    const P = name.toUpperCase();
    env[`${P}_RETRY_INITIAL_INTERVAL_MS`] = '100';
    env[`${P}_RETRY_MAX_INTERVAL_MS`] = '300';
    env[`${P}_RETRY_MAX_ATTEMPTS`] = '3';
    if (options.senderTimeoutMs !== undefined) env[`${P}_TIMEOUT_MS`] = String(options.senderTimeoutMs);
  }
  return env;
}
