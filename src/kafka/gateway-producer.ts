import type { Kafka } from 'kafkajs';
import type { KafkaSecurity } from '../tls/transport-security.js';
import { BatchingProducer, KafkajsTransport } from './batching-producer.js';
import type { BatchingProducerOptions } from './batching-producer.js';
import { PlatformaticTransport } from './platformatic-transport.js';

/** The Kafka client libraries the gateway's producer can run on (`KAFKA_PRODUCER_CLIENT`). */
export const PRODUCER_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type ProducerClient = (typeof PRODUCER_CLIENTS)[number];

/** Options of {@link createGatewayProducer}: the batching options plus what each client library needs to connect. */
export interface GatewayProducerOptions extends Omit<BatchingProducerOptions, 'kafka' | 'transport'> {
  client: ProducerClient;
  /** The kafkajs client (used by the `kafkajs` transport). */
  kafka: Kafka;
  brokers: string[];
  clientId: string;
  security?: KafkaSecurity;
}

/**
 * The gateway's micro-batching idempotent producer on the chosen client library. Both transports give the same
 * guarantees (acks = all, idempotent, one send in flight, kafkajs' partition per key, acknowledged only when the
 * answer covers the record's partition, a new producer id after an uncertain send).
 */
export function createGatewayProducer(options: GatewayProducerOptions): BatchingProducer {
  const { client, kafka, brokers, clientId, security, ...batching } = options;
  const transport =
    client === 'platformatic'
      ? new PlatformaticTransport({
          brokers,
          clientId,
          security,
          topic: batching.topic,
          logger: batching.logger,
          timeoutMs: batching.timeoutMs,
        })
      : new KafkajsTransport(kafka, batching.topic, batching.timeoutMs);
  return new BatchingProducer({ ...batching, transport });
}
