import { Partitioners } from 'kafkajs';
import type { IHeaders, Kafka, Producer, RecordMetadata } from 'kafkajs';
import type { Logger } from 'pino';
import { withTimeout } from '../runtime/with-timeout.js';

/** How often an unhealthy producer probes the topic's metadata. */
const PROBE_INTERVAL_MS = 2_000;
/** Deadline of one probe (connect + metadata); generous, since probes never overlap and a slow broker is still up. */
const PROBE_TIMEOUT_MS = 10_000;

/** A message queued for the next producer batch. */
export interface OutgoingMessage {
  key: string;
  value: string;
  headers?: IHeaders;
}

/** Thrown when a record could not be acknowledged by Kafka (broker down, timeout, not connected). */
export class ProduceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProduceError';
  }
}

/**
 * What the batching producer needs from a Kafka client library: one idempotent producer (acks = all) at a time, never
 * two sends in flight. Implemented on kafkajs ({@link KafkajsTransport}) and on `@platformatic/kafka`
 * (`PlatformaticTransport`); the queue, deadlines, resends and readiness above it are the same for both.
 */
export interface ProducerTransport {
  /** Connects the current producer (and gets its producer id); safe to call again after a failure. */
  connect(): Promise<void>;
  /** True while the current producer's connection is up, as far as the library knows. */
  isConnected(): boolean;
  /**
   * Sends one batch to the topic with acks = all and idempotence; resolves with the messages whose partition the
   * broker's answer did not cover (to be sent again), rejects when the outcome is unknown or failed.
   */
  send(messages: OutgoingMessage[]): Promise<OutgoingMessage[]>;
  /**
   * Replaces the producer by a new one (a new producer id, sequence numbers from 0) after a send whose outcome is
   * uncertain, so that sequence numbers the broker may already have stored are never reused for other records.
   */
  renew(): Promise<void>;
  /** One bounded metadata round trip for the topic (connect + metadata) that releases what it opened, also on timeout. */
  probe(timeoutMs: number): Promise<void>;
  /** Disconnects the current producer. */
  close(): Promise<void>;
}

/** Options of the micro-batching producer. */
export interface BatchingProducerOptions {
  /** A kafkajs client (the default transport, {@link KafkajsTransport}); ignored when `transport` is given. */
  kafka?: Kafka;
  /** Any other client library behind {@link ProducerTransport} (e.g. `PlatformaticTransport`). */
  transport?: ProducerTransport;
  topic: string;
  logger: Logger;
  /** How long the first record of a batch may wait for more (ms). 0 = send as soon as the previous batch is done. */
  lingerMs: number;
  maxBatchRecords: number;
  /** Per-batch deadline: a record that Kafka has not acknowledged within this is failed (the caller answers 503). */
  timeoutMs: number;
  onBatch?: (info: { records: number; durationMs: number; ok: boolean }) => void;
}

interface Pending {
  message: OutgoingMessage;
  resolve: () => void;
  reject: (err: Error) => void;
  /** `performance.now()` after which the record is failed, wherever it is (queued or in a batch in flight). */
  deadline: number;
  settled: boolean;
}

/** Settles a record once; later outcomes (its batch finishing after the deadline failed it) are ignored. */
function settle(entry: Pending, err?: Error): void {
  if (entry.settled) return;
  entry.settled = true;
  if (err === undefined) entry.resolve();
  else entry.reject(err);
}

/**
 * The records of `batch` whose partition is missing from the acknowledgements of one `producer.send`.
 *
 * kafkajs 2.2.4 keeps, across the retries of one send, the answers of brokers that already acknowledged their
 * partitions, and sends a retry only to brokers without an answer. When a partition's leader dies and the partition
 * moves to such a broker, its records are never sent again, yet `send` resolves (tulios/kafkajs#1303, #1798): an
 * acknowledged-looking record that Kafka never stored. `partitionOf` is where kafkajs' partitioner put each record.
 */
export function unacknowledged<T extends { message: object }>(
  batch: readonly T[],
  acks: readonly Pick<RecordMetadata, 'partition' | 'errorCode'>[],
  partitionOf: (message: object) => number | undefined,
): T[] {
  const acked = new Set(acks.filter((a) => a.errorCode === 0).map((a) => a.partition));
  return batch.filter((p) => {
    const partition = partitionOf(p.message);
    return partition === undefined || !acked.has(partition);
  });
}

/**
 * The kafkajs 2.2.4 transport: `producer({ idempotent: true, maxInFlightRequests: 1 })`, acks = -1, its default
 * (Java-compatible murmur2) partitioner, an admin client per readiness probe.
 */
export class KafkajsTransport implements ProducerTransport {
  private producer: Producer;
  private connected = false;
  /** The partition kafkajs' partitioner last chose for each message (to check the acknowledgements). */
  private readonly partitionOf = new WeakMap<object, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly timeoutMs: number,
  ) {
    this.producer = this.createProducer();
  }

  private createProducer(): Producer {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: () => {
        const partitioner = Partitioners.DefaultPartitioner();
        return (args) => {
          const partition = partitioner(args);
          this.partitionOf.set(args.message, partition);
          return partition;
        };
      },
    });
    producer.on(producer.events.CONNECT, () => {
      if (producer === this.producer) this.connected = true;
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.connected = false;
    });
    return producer;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  isConnected(): boolean {
    return this.connected;
  }

  async send(messages: OutgoingMessage[]): Promise<OutgoingMessage[]> {
    const acks = await this.producer.send({ topic: this.topic, acks: -1, timeout: this.timeoutMs, messages });
    return unacknowledged(
      messages.map((message) => ({ message })),
      acks,
      (m) => this.partitionOf.get(m),
    ).map((p) => p.message);
  }

  /**
   * kafkajs rolls a partition's sequence number back when a send fails, although the broker may have stored that
   * batch: the next batch of the same size would then reuse its sequence numbers, and the broker would answer it as a
   * duplicate of the stored one — acknowledged, never written. A new producer id cannot collide.
   */
  async renew(): Promise<void> {
    const old = this.producer;
    this.producer = this.createProducer();
    this.connected = false;
    await old.disconnect().catch(() => undefined);
  }

  async probe(timeoutMs: number): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await withTimeout(
        (async () => {
          await admin.connect();
          await admin.fetchTopicMetadata({ topics: [this.topic] });
        })(),
        timeoutMs,
        'metadata probe',
      );
    } finally {
      void admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    this.connected = false;
  }
}

/**
 * An idempotent producer (acks = all) that micro-batches concurrent `send` calls, on kafkajs or another
 * {@link ProducerTransport}.
 *
 * kafkajs has no `linger.ms`, and its idempotent producer must not have two sends in flight (out-of-order sequence
 * errors, kafkajs#598). So records queue here; one send carries everything queued while the previous batch
 * was in flight (plus up to `lingerMs`). A caller's promise resolves only once the broker acknowledged its record.
 */
export class BatchingProducer {
  private readonly transport: ProducerTransport;
  private queue: Pending[] = [];
  /**
   * Every unsettled record in send order (settled ones are skipped lazily from `deadlineHead`): deadlines grow with
   * send order, so one timer armed for the oldest unsettled record replaces a timer per record on the hot path.
   */
  private deadlines: Pending[] = [];
  private deadlineHead = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** False after a batch failed, until a later batch or a metadata probe succeeds. */
  private healthy = true;
  private probeTimer: NodeJS.Timeout | undefined;
  /** True while a readiness probe runs (at most one at a time). */
  private probing = false;

  constructor(private readonly options: BatchingProducerOptions) {
    if (options.transport !== undefined) this.transport = options.transport;
    else if (options.kafka !== undefined)
      this.transport = new KafkajsTransport(options.kafka, options.topic, options.timeoutMs);
    else throw new Error('BatchingProducer needs a kafka client or a transport');
  }

  /**
   * True while the producer is connected and its last write (or health probe) succeeded — used by `/readyz`, so a
   * load balancer stops sending traffic while Kafka cannot acknowledge records.
   */
  isConnected(): boolean {
    return this.transport.isConnected() && this.healthy && !this.closed;
  }

  private markUnhealthy(): void {
    this.healthy = false;
    if (this.probeTimer !== undefined || this.closed) return;
    // Without traffic nothing else would notice the broker coming back: probe the topic's metadata until it answers.
    this.probeTimer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  /**
   * One metadata probe, skipped while the previous one is still running: during an outage a connect can take longer
   * than the interval, and overlapping probes would pile up admin clients. The whole probe (connect + metadata) has
   * one deadline, after which its admin client is disconnected and the next tick may try again.
   */
  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.transport.probe(PROBE_TIMEOUT_MS);
      this.markHealthy();
    } catch {
      // Still unreachable; the next tick probes again.
    } finally {
      this.probing = false;
    }
  }

  private markHealthy(): void {
    this.healthy = true;
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** Connects; safe to call again after a failure. */
  async connect(): Promise<void> {
    await this.transport.connect();
  }

  /** Queues one record; resolves when Kafka acknowledged it (acks = all), rejects with `ProduceError` otherwise. */
  send(message: OutgoingMessage): Promise<void> {
    if (this.closed) return Promise.reject(new ProduceError('producer is shutting down'));
    return new Promise<void>((resolve, reject) => {
      const entry: Pending = {
        message,
        resolve,
        reject,
        deadline: performance.now() + this.options.timeoutMs,
        settled: false,
      };
      this.deadlines.push(entry);
      this.deadlineTimer ??= setTimeout(() => this.expireOverdue(), this.options.timeoutMs);
      this.queue.push(entry);
      this.schedule();
    });
  }

  /**
   * Fails every record past its deadline, also while it waits behind a stuck batch (each record has its own
   * deadline from the moment it was sent), then re-arms the timer for the oldest record still unsettled.
   */
  private expireOverdue(): void {
    this.deadlineTimer = undefined;
    const now = performance.now();
    let expired = 0;
    while (this.deadlineHead < this.deadlines.length) {
      const entry = this.deadlines[this.deadlineHead];
      if (entry === undefined) break;
      if (!entry.settled) {
        if (entry.deadline > now) {
          this.deadlineTimer = setTimeout(() => this.expireOverdue(), Math.max(1, entry.deadline - now));
          break;
        }
        const index = this.queue.indexOf(entry);
        if (index >= 0) this.queue.splice(index, 1);
        settle(entry, new ProduceError(`Kafka did not acknowledge the record within ${this.options.timeoutMs} ms`));
        expired++;
      }
      this.deadlineHead++;
    }
    if (this.deadlineHead >= this.deadlines.length) {
      this.deadlines = [];
      this.deadlineHead = 0;
    } else if (this.deadlineHead > 1024) {
      this.deadlines = this.deadlines.slice(this.deadlineHead);
      this.deadlineHead = 0;
    }
    if (expired > 0) this.markUnhealthy();
  }

  /** Queues several records; resolves per record (a failed batch fails every record in it). */
  sendMany(messages: OutgoingMessage[]): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(messages.map((m) => this.send(m)));
  }

  private schedule(): void {
    if (this.inFlight) return;
    if (this.queue.length >= this.options.maxBatchRecords || this.options.lingerMs === 0) {
      this.flushSoon();
      return;
    }
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      void this.flush();
    }, this.options.lingerMs);
  }

  private flushSoon(): void {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    // Let the current tick's concurrent requests join the batch.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    const batch = this.queue.splice(0, this.options.maxBatchRecords);
    const started = performance.now();
    let ok = false;
    // The underlying send keeps running after our deadline; the next batch waits for it so that the idempotent
    // producer never has two sends in flight. It resolves with the records Kafka did not acknowledge.
    const underlying = (async () => {
      if (!this.transport.isConnected()) await this.connect();
      const left = await this.transport.send(batch.map((p) => p.message));
      if (left.length === 0) return [];
      const leftOut = new Set<object>(left);
      return batch.filter((p) => leftOut.has(p.message));
    })();
    try {
      const missing = await withTimeout(underlying, this.options.timeoutMs, 'Kafka send');
      ok = missing.length === 0;
      this.markHealthy();
      for (const p of batch) if (!missing.includes(p)) settle(p);
      const resend = missing.filter((p) => !p.settled);
      if (resend.length > 0) {
        // Sent again in the next batch (by a new producer, see `ProducerTransport.renew`), within each record's own deadline.
        this.options.logger.warn(
          { records: resend.length },
          'Kafka acknowledged the send without these records (partition leader moved); sending them again',
        );
        this.queue.unshift(...resend);
      }
    } catch (err) {
      const error = new ProduceError(
        `Kafka did not acknowledge the record: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
      this.markUnhealthy();
      this.options.logger.warn({ err: { message: error.message }, records: batch.length }, 'produce failed');
      for (const p of batch) settle(p, error);
    } finally {
      this.options.onBatch?.({ records: batch.length, durationMs: performance.now() - started, ok });
      const complete = await underlying.then(
        (missing) => missing.length === 0,
        () => false,
      );
      if (!complete) await this.transport.renew();
      this.inFlight = false;
      if (this.queue.length > 0) this.flushSoon();
    }
  }

  /** Flushes what is queued, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    while (this.queue.length > 0 || this.inFlight) {
      if (!this.inFlight) await this.flush();
      else await new Promise((r) => setTimeout(r, 5));
    }
    // Every record is settled now: nothing is left for the deadline timer to fail.
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    await this.transport.close();
  }
}
