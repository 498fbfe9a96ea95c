import { Producer, stringSerializer } from '@platformatic/kafka';
import type { MessageToProduce, ProducerOptions, SASLOptions as PlatformaticSasl } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { withTimeout } from '../runtime/with-timeout.js';
import type { KafkaSecurity } from '../tls/transport-security.js';
import type { OutgoingMessage, ProducerTransport } from './batching-producer.js';
import { partitionForKey } from './partitioner.js';

/** Options of the `@platformatic/kafka` transport. */
export interface PlatformaticTransportOptions {
  brokers: string[];
  clientId: string;
  topic: string;
  logger: Logger;
  /** Per-request deadline (connect, metadata, produce; also the broker's acks = all wait). */
  timeoutMs: number;
  /** TLS and SASL towards the brokers, as built for kafkajs by `kafkaSecurityFromConfig`; plaintext when absent. */
  security?: KafkaSecurity;
  /**
   * How long one send may take before it is abandoned as of unknown outcome (default `timeoutMs`). 1.20.0 has no
   * client-side request timeout: a request to a broker that stopped answering without closing the connection
   * (frozen, partitioned) would wait forever and hold the gateway's one send in flight.
   */
  requestTimeoutMs?: number;
  /** Retries of one request on network or retriable broker errors. */
  retries?: number;
  retryDelayMs?: number;
}

type Message = MessageToProduce<Buffer, Buffer, string, string>;

const SASL_MECHANISMS: Record<string, PlatformaticSasl['mechanism']> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

/**
 * kafkajs-shaped TLS/SASL options (what `src/tls` builds from KAFKA_SSL_* / KAFKA_SASL_*) as `@platformatic/kafka`
 * connection options. Throws for a SASL mechanism it has no mapping for (the config only allows the mapped ones).
 */
export function platformaticSecurity(
  security: KafkaSecurity | undefined,
): Pick<ProducerOptions<Buffer, Buffer, string, string>, 'tls' | 'sasl'> {
  const out: Pick<ProducerOptions<Buffer, Buffer, string, string>, 'tls' | 'sasl'> = {};
  if (security?.ssl !== undefined) out.tls = { ...security.ssl };
  const sasl = security?.sasl;
  if (sasl !== undefined) {
    const mechanism = SASL_MECHANISMS[sasl.mechanism];
    if (mechanism === undefined || !('username' in sasl) || !('password' in sasl))
      throw new Error(
        `SASL mechanism ${sasl.mechanism} is not supported with KAFKA_PRODUCER_CLIENT=platformatic: use plain, scram-sha-256 or scram-sha-512, or KAFKA_PRODUCER_CLIENT=kafkajs`,
      );
    out.sasl = { mechanism, username: sasl.username, password: sasl.password };
  }
  return out;
}

/** A header value as bytes (kafkajs' `IHeaders` allows strings and Buffers; notify's envelope uses strings). */
function headerBytes(value?: string | Buffer): Buffer | undefined {
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value : stringSerializer(String(value));
}

/**
 * The gateway's producer on `@platformatic/kafka` 1.20.0: idempotent (a producer id from `InitProducerId`, sequence
 * numbers per partition), acks = all, one send in flight (`maxInflights: 1`), kafkajs-compatible partitions.
 *
 * Differences from its defaults, on purpose:
 * - The idempotent flag is given per send, not to the constructor: the constructor's idempotent mode sets retries to
 *   `Number.MAX_SAFE_INTEGER`, and a send that never ends would hold the gateway's one send in flight forever. Here a
 *   send gives up after `retries` and the batching producer fails its records (503) and calls {@link renew}.
 * - Partitions are chosen here ({@link partitionForKey}: kafkajs' and Java's mapping), never by its default
 *   `murmur2 >>> 0`, and set on each record, so the acknowledgements can be checked per partition.
 * - Its sequence numbers advance only when a send succeeds; a send that failed may still have been written, so the
 *   next records must not reuse those numbers: {@link renew} replaces the producer (new producer id). Retries inside
 *   one send (network error, retriable broker error) resend the same sequence numbers, which the broker deduplicates.
 * - It has no request timeout: a send is abandoned after `requestTimeoutMs` (unknown outcome, so renewed as well).
 */
export class PlatformaticTransport implements ProducerTransport {
  private producer: Producer<Buffer, Buffer, string, string>;
  private initialised = false;

  constructor(private readonly options: PlatformaticTransportOptions) {
    // Fails at start-up (not at the first send) for TLS/SASL settings it cannot map.
    platformaticSecurity(options.security);
    this.producer = this.createProducer();
  }

  private createProducer(): Producer<Buffer, Buffer, string, string> {
    const o = this.options;
    return new Producer<Buffer, Buffer, string, string>({
      clientId: o.clientId,
      bootstrapBrokers: o.brokers,
      ...platformaticSecurity(o.security),
      connectTimeout: Math.min(o.timeoutMs, 3_000),
      timeout: o.timeoutMs,
      retries: o.retries ?? 5,
      retryDelay: o.retryDelayMs ?? 100,
      maxInflights: 1,
      autocreateTopics: false,
      serializers: { headerKey: stringSerializer, headerValue: headerBytes },
    });
  }

  /** The producer id the broker gave the current producer (undefined before {@link connect}). */
  get producerId(): bigint | undefined {
    return this.producer.producerId;
  }

  /**
   * Gets the producer id once per producer (a second `InitProducerId` would give a new id while the client keeps
   * the old id's sequence numbers), then the topic's metadata.
   */
  async connect(): Promise<void> {
    if (this.producer.producerId === undefined)
      await this.producer.initIdempotentProducer({ idempotent: true, acks: -1 });
    await this.producer.metadata({ topics: [this.options.topic] });
    this.initialised = true;
  }

  /** Like kafkajs' producer: true from a successful `connect` until `close`/`renew` (outages show in send results). */
  isConnected(): boolean {
    return this.initialised && !this.producer.closed;
  }

  async send(messages: OutgoingMessage[]): Promise<OutgoingMessage[]> {
    const { topic } = this.options;
    // Cached by the client (metadataMaxAge); the same lookup its send does for the leaders.
    const metadata = await this.producer.metadata({ topics: [topic] });
    const partitions = metadata.topics.get(topic)?.partitionsCount;
    if (partitions === undefined || partitions < 1) throw new Error(`topic ${topic} has no partitions in the metadata`);
    const partitionOf: number[] = new Array<number>(messages.length);
    const records: Message[] = new Array<Message>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as OutgoingMessage;
      const key = Buffer.from(m.key, 'utf8');
      const partition = partitionForKey(key, partitions);
      partitionOf[i] = partition;
      records[i] = {
        topic,
        key,
        value: Buffer.from(m.value, 'utf8'),
        partition,
        headers: m.headers as Record<string, string> | undefined,
      };
    }
    // Within the deadline, a failed send is sent again by the same producer with the same sequence numbers (they
    // advance only on success, and the broker deduplicates what it already stored), after fresh metadata: 1.20.0's
    // own retries keep the leader chosen before the first attempt, so they never follow a partition that moved.
    const producer = this.producer;
    const budgetMs = this.options.requestTimeoutMs ?? this.options.timeoutMs;
    const retryDelayMs = this.options.retryDelayMs ?? 100;
    const giveUpAt = performance.now() + budgetMs;
    const attempt = async () => {
      for (;;) {
        try {
          return await producer.send({ messages: records, idempotent: true, acks: -1 });
        } catch (err) {
          if (producer.closed || performance.now() + retryDelayMs >= giveUpAt) throw err;
          await new Promise((r) => setTimeout(r, retryDelayMs));
          if (producer.closed) throw err;
          await producer.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
        }
      }
    };
    const result = await withTimeout(attempt(), budgetMs, 'Kafka produce request');
    const acked = new Set<number>();
    for (const o of result.offsets ?? []) if (o.topic === topic) acked.add(o.partition);
    return messages.filter((_, i) => !acked.has(partitionOf[i] as number));
  }

  renew(): Promise<void> {
    const old = this.producer;
    this.producer = this.createProducer();
    this.initialised = false;
    this.options.logger.debug(
      { oldProducerId: String(old.producerId) },
      'Kafka producer replaced after an uncertain send',
    );
    // Not awaited: closing ends the sockets gracefully, which waits for a broker that may not answer (frozen).
    void old.close().catch(() => undefined);
    return Promise.resolve();
  }

  async probe(timeoutMs: number): Promise<void> {
    // Its own short-lived client, so a hanging probe never holds the producer's connections.
    const client = new Producer({
      clientId: `${this.options.clientId}-probe`,
      bootstrapBrokers: this.options.brokers,
      ...platformaticSecurity(this.options.security),
      connectTimeout: Math.min(timeoutMs, 3_000),
      timeout: timeoutMs,
      retries: 0,
    });
    try {
      await withTimeout(
        client.metadata({ topics: [this.options.topic], forceUpdate: true }),
        timeoutMs,
        'metadata probe',
      );
    } finally {
      void client.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.initialised = false;
    await this.producer.close();
  }
}
