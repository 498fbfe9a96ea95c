import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Partitioners } from 'kafkajs';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { PayloadKeyring } from '../crypto/keyring.js';
import type { Logger } from 'pino';
import { EVENTS_NONE, HEADERS } from '../kafka/envelope.js';
import { contextFromKafkaHeaders } from '../observability/propagation.js';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import type { NotificationMemo, StartOutcome } from '../temporal/notification-client.js';
import type { NotificationWorkflowInput } from '../shared/notification.js';
import { classifyRecord } from './classify.js';
import { OffsetTracker } from './offset-tracker.js';
import type { PoisonRecord } from './classify.js';
import { withTimeout } from '../runtime/with-timeout.js';

/** Starts a workflow; `NotificationClient` in production, anything with the same shape in tests. */
export interface WorkflowStarter {
  start(input: NotificationWorkflowInput, memo: NotificationMemo): Promise<StartOutcome>;
}

/** Decides whether a failed start can never succeed (the record then goes to the DLQ instead of being retried). */
export type PermanentStartErrorPredicate = (err: unknown) => boolean;

/** Settings and dependencies of the ingest consumer. */
export interface IngestOptions {
  kafka: Kafka;
  topic: string;
  dlqTopic: string;
  groupId: string;
  starter: WorkflowStarter;
  /** `record.withoutEvents`: the gateway found no enabled webhook endpoint of the client (header `notify-events`). */
  buildInput: (envelope: NotificationEnvelope, record: RecordHints) => NotificationWorkflowInput;
  logger: Logger;
  /** Concurrent workflow starts per partition batch. */
  concurrency: number;
  /** Partitions processed at once by this consumer. */
  partitionsConcurrently: number;
  maxRecordBytes: number;
  /** Decrypts records whose request the gateway encrypted (`sealedRequest`); without it such records are poison. */
  payloadKeyring?: PayloadKeyring;
  /** Deadline of one `workflow.start` call. */
  startTimeoutMs: number;
  backoffMaxMs: number;
  sessionTimeoutMs: number;
  isPermanentStartError?: PermanentStartErrorPredicate;
  /** Test hook: called after a workflow start was accepted and before the offset is committed. */
  afterStart?: (envelope: NotificationEnvelope, outcome: StartOutcome) => Promise<void> | void;
  onEvent?: (event: IngestEvent) => void;
}

/** What the consumer reports for metrics and tests. */
export type IngestEvent =
  | { type: 'started'; id: string; outcome: StartOutcome; latencyMs: number }
  | { type: 'dead-lettered'; reason: string; partition: number; offset: string }
  | { type: 'start-failed'; id: string; error: string; retryInMs: number }
  | { type: 'committed'; partition: number; offset: string };

/** Largest value copied to the DLQ for an oversized record. */
const DLQ_MAX_VALUE_BYTES = 64 * 1024;

class StaleBatchError extends Error {
  constructor() {
    super('batch is stale (rebalance or shutdown)');
  }
}

/**
 * Kafka → Temporal. For each record: validate; poison → dead-letter topic (acks = all) first; valid → start the
 * notification workflow (workflow id = notification id, duplicates rejected). The offset is committed only after
 * the start was accepted (or the DLQ write acknowledged), as the highest contiguous processed offset
 * (`OffsetTracker`).
 *
 * When Temporal is unavailable the consumer retries the start with capped exponential backoff while heartbeating, so
 * it keeps its partitions, commits nothing, never crash-loops, and drains when Temporal is back. A rebalance or
 * shutdown abandons the rest of the batch uncommitted for the next owner.
 */
export class IngestConsumer {
  private readonly consumer: Consumer;
  private readonly dlq: Producer;
  private running = false;

  constructor(private readonly options: IngestOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    this.dlq = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  /** Connects, subscribes and starts consuming (returns once consumption started). */
  async start(): Promise<void> {
    await this.dlq.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** Stops consuming: in-flight starts finish, processed offsets are committed, the rest is left for the next owner. */
  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
    await this.dlq.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const isRunning = () => payload.isRunning();
    const isStale = () => payload.isStale();
    const resolveOffset = (offset: string) => payload.resolveOffset(offset);
    const messages = batch.messages;
    if (messages.length === 0) return;
    const alive = () => this.running && isRunning() && !isStale();
    const tracker = new OffsetTracker(
      messages.map((m) => m.offset),
      async ({ lastOffset, nextOffset }) => {
        resolveOffset(lastOffset);
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }]);
        this.options.onEvent?.({ type: 'committed', partition: batch.partition, offset: nextOffset });
      },
    );
    const commit = () => tracker.commit();
    let next = 0;

    const worker = async () => {
      while (next < messages.length) {
        if (!alive()) return;
        const index = next++;
        const message = messages[index];
        if (message === undefined) continue;
        await this.processRecord(message, batch.topic, batch.partition, { heartbeat, alive });
        tracker.markDone(index);
      }
    };

    let lastCommit = Date.now();
    const periodic = setInterval(() => {
      if (Date.now() - lastCommit < 1_000) return;
      lastCommit = Date.now();
      commit().catch((err: unknown) => this.options.logger.warn({ err }, 'periodic commit failed'));
      heartbeat().catch(() => undefined);
    }, 250);
    try {
      await Promise.all(Array.from({ length: Math.min(this.options.concurrency, messages.length) }, worker));
    } catch (err) {
      if (!(err instanceof StaleBatchError)) throw err;
    } finally {
      clearInterval(periodic);
    }
    // Commit what is done even when abandoning the rest of the batch (shutdown): the next owner starts after it.
    try {
      await commit();
    } catch (err) {
      // A failed commit only means redelivery; starts are idempotent.
      this.options.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) }, partition: batch.partition },
        'commit failed; records will be redelivered',
      );
    }
    if (alive()) await heartbeat();
  }

  private async processRecord(
    message: KafkaMessage,
    topic: string,
    partition: number,
    ctl: { heartbeat: () => Promise<void>; alive: () => boolean },
  ): Promise<void> {
    const classified = classifyRecord(message, this.options.maxRecordBytes, this.options.payloadKeyring);
    if (classified.kind === 'poison') {
      await this.retrying(ctl, `dead-letter ${partition}/${message.offset}`, () =>
        this.deadLetter(message, topic, partition, classified),
      );
      this.options.onEvent?.({ type: 'dead-lettered', reason: classified.reason, partition, offset: message.offset });
      return;
    }
    const { envelope } = classified;
    const input = this.options.buildInput(envelope, recordHints(message.headers));
    const started = performance.now();
    let outcome: StartOutcome | 'dead-lettered';
    // Continues the trace of the HTTP request (record header `traceparent`); the Temporal client interceptor carries
    // it on into the workflow.
    const parent = contextFromKafkaHeaders(message.headers);
    const span = trace.getTracer('notify').startSpan(
      'ingest start-workflow',
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.kafka.offset': Number(message.offset),
          'notify.notification_id': envelope.id,
        },
      },
      parent,
    );
    try {
      outcome = await context.with(trace.setSpan(parent, span), () =>
        this.startOrDeadLetter(ctl, message, topic, partition, envelope, input),
      );
      span.setAttribute('notify.start_outcome', outcome);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
    if (outcome === 'dead-lettered') {
      this.options.onEvent?.({ type: 'dead-lettered', reason: 'start-rejected', partition, offset: message.offset });
      return;
    }
    this.options.onEvent?.({ type: 'started', id: envelope.id, outcome, latencyMs: performance.now() - started });
    await this.options.afterStart?.(envelope, outcome);
  }

  private startOrDeadLetter(
    ctl: { heartbeat: () => Promise<void>; alive: () => boolean },
    message: KafkaMessage,
    topic: string,
    partition: number,
    envelope: NotificationEnvelope,
    input: NotificationWorkflowInput,
  ): Promise<StartOutcome | 'dead-lettered'> {
    return this.retrying(ctl, envelope.id, async () => {
      try {
        return await withTimeout(
          this.options.starter.start(input, { bodyHash: envelope.bodyHash, clientId: envelope.clientId }),
          this.options.startTimeoutMs,
          'workflow start',
        );
      } catch (err) {
        if (this.options.isPermanentStartError?.(err) === true) {
          await this.deadLetter(message, topic, partition, {
            kind: 'poison',
            reason: 'invalid-schema',
            error: `Temporal rejected the start: ${err instanceof Error ? err.message : String(err)}`,
          });
          return 'dead-lettered' as const;
        }
        throw err;
      }
    });
  }

  /** Retries `fn` with capped exponential backoff, heartbeating, until it succeeds or the batch goes stale. */
  private async retrying<T>(
    ctl: { heartbeat: () => Promise<void>; alive: () => boolean },
    what: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    let delay = 100;
    for (;;) {
      if (!ctl.alive()) throw new StaleBatchError();
      try {
        return await fn();
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        this.options.onEvent?.({ type: 'start-failed', id: what, error, retryInMs: delay });
        this.options.logger.warn(
          { notificationId: what, err: { message: error }, retryInMs: delay },
          'ingest step failed; backing off (offset not committed)',
        );
        const until = Date.now() + delay;
        while (Date.now() < until) {
          if (!ctl.alive()) throw new StaleBatchError();
          await ctl.heartbeat().catch(() => undefined);
          await sleep(Math.min(250, until - Date.now()));
        }
        delay = Math.min(delay * 2, this.options.backoffMaxMs);
      }
    }
  }

  private async deadLetter(
    message: KafkaMessage,
    topic: string,
    partition: number,
    poison: PoisonRecord,
  ): Promise<void> {
    const headers = { ...(message.headers ?? {}) };
    headers[HEADERS.dlqReason] = poison.reason;
    headers[HEADERS.dlqError] = poison.error.slice(0, 4000);
    headers[HEADERS.dlqTopic] = topic;
    headers[HEADERS.dlqPartition] = String(partition);
    headers[HEADERS.dlqOffset] = message.offset;
    headers[HEADERS.dlqAt] = new Date().toISOString();
    let value = message.value;
    // Oversized values are truncated so that the DLQ write itself cannot fail on size; a header says so.
    if (poison.reason === 'oversized' && value !== null && value.length > DLQ_MAX_VALUE_BYTES) {
      headers['dlq-truncated-from'] = String(value.length);
      value = value.subarray(0, DLQ_MAX_VALUE_BYTES);
    }
    await this.dlq.send({ topic: this.options.dlqTopic, acks: -1, messages: [{ key: message.key, value, headers }] });
    this.options.logger.warn(
      { notificationId: message.key?.toString('utf8'), partition, offset: message.offset, reason: poison.reason },
      'record dead-lettered',
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** What the gateway said about a record besides its envelope (Kafka headers). */
export interface RecordHints {
  withoutEvents: boolean;
}

/** Reads {@link RecordHints} from a record's headers. */
export function recordHints(headers: KafkaMessage['headers']): RecordHints {
  const value = headers?.[HEADERS.events];
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : undefined;
  return { withoutEvents: text === EVENTS_NONE };
}
