import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitState } from '../channels/circuit-breaker.js';
import type { IngestEvent } from '../ingest/ingest-consumer.js';

/** Latency buckets (seconds) for calls that take milliseconds to seconds: HTTP, Kafka produce, workflow start, sends. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A Prometheus registry for one process, with Node's default process metrics (CPU, memory, event-loop lag, GC) and a
 * `component` label on every series, so that dashboards can tell gateway, ingest and worker apart when one Prometheus
 * job scrapes them all.
 */
export function createMetricsRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Gateway series: HTTP traffic and the Kafka producer behind `202 Accepted`. */
export interface GatewayMetrics {
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  produceDuration: Histogram<'outcome'>;
  produceErrors: Counter;
  produceBatchRecords: Histogram;
  /** Pass as `BatchingProducer` `onBatch`. */
  onBatch: (info: { records: number; durationMs: number; ok: boolean }) => void;
}

/** Registers the gateway series on `registry`. */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const httpRequests = new Counter({
    name: 'notify_http_requests_total',
    help: 'HTTP requests answered by the gateway, by route template, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'notify_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to sending the answer.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const produceDuration = new Histogram({
    name: 'notify_kafka_produce_duration_seconds',
    help: 'Duration of one Kafka produce batch until the broker acknowledged it (acks=all) or it failed.',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const produceErrors = new Counter({
    name: 'notify_kafka_produce_errors_total',
    help: 'Kafka produce batches that failed (every record in them was answered 503).',
    registers: [registry],
  });
  const produceBatchRecords = new Histogram({
    name: 'notify_kafka_produce_batch_records',
    help: 'Records per Kafka produce batch (micro-batching of concurrent requests).',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  return {
    httpRequests,
    httpDuration,
    produceDuration,
    produceErrors,
    produceBatchRecords,
    onBatch: ({ records, durationMs, ok }) => {
      produceDuration.observe({ outcome: ok ? 'ok' : 'error' }, durationMs / 1000);
      produceBatchRecords.observe(records);
      if (!ok) produceErrors.inc();
    },
  };
}

/** Ingest series: records consumed, workflow starts, DLQ and consumer lag. */
export interface IngestMetrics {
  records: Counter<'result'>;
  workflowStarts: Counter<'outcome'>;
  startDuration: Histogram<'outcome'>;
  startFailures: Counter;
  deadLettered: Counter<'reason'>;
  lag: Gauge<'topic' | 'partition'>;
  /** Pass as `IngestConsumer` `onEvent`. */
  onEvent: (event: IngestEvent) => void;
}

/** Registers the ingest series on `registry`. */
export function createIngestMetrics(registry: Registry): IngestMetrics {
  const records = new Counter({
    name: 'notify_ingest_records_total',
    help: 'Kafka records fully processed by ingest (rate() gives records/s), by result: started or dead-lettered.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const workflowStarts = new Counter({
    name: 'notify_ingest_workflow_starts_total',
    help: 'Workflow starts by outcome: started (new) or already-started (a redelivered record, deduplicated by id).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const startDuration = new Histogram({
    name: 'notify_ingest_workflow_start_duration_seconds',
    help: 'Time to start a notification workflow, including retries while Temporal was unavailable.',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const startFailures = new Counter({
    name: 'notify_ingest_step_failures_total',
    help: 'Failed workflow-start or dead-letter attempts that ingest backed off from and retried (offset not committed).',
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'notify_ingest_dead_lettered_total',
    help: 'Records written to the dead-letter topic, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'notify_ingest_consumer_lag',
    help: 'Records in the partition not yet committed by the ingest consumer group (log end offset − committed offset).',
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
  });
  return {
    records,
    workflowStarts,
    startDuration,
    startFailures,
    deadLettered,
    lag,
    onEvent: (event) => {
      switch (event.type) {
        case 'started':
          records.inc({ result: 'started' });
          workflowStarts.inc({ outcome: event.outcome });
          startDuration.observe({ outcome: event.outcome }, event.latencyMs / 1000);
          break;
        case 'dead-lettered':
          records.inc({ result: 'dead-lettered' });
          deadLettered.inc({ reason: event.reason });
          break;
        case 'start-failed':
          startFailures.inc();
          break;
        case 'committed':
          break;
      }
    },
  };
}

/** Worker series: one per channel send attempt. */
export interface WorkerMetrics {
  sends: Counter<'channel' | 'provider' | 'result'>;
  sendDuration: Histogram<'channel' | 'provider' | 'result'>;
  /** Pass as `createActivities` / `createChannelWorker` `onOutcome`. */
  onOutcome: (outcome: {
    channel: string;
    provider: string;
    result: 'sent' | 'permanent' | 'transient';
    durationMs: number;
  }) => void;
  /** Deliveries decided without a send: skipped (opted-out / suppressed) or held by quiet hours. */
  decisions: Counter<'channel' | 'decision'>;
  /** Pass as `createActivities` / `createChannelWorker` `onDecision`. */
  onDecision: (decision: { channel: string; decision: 'opted-out' | 'suppressed' | 'held' }) => void;
  /** Time to render a template for one delivery (Liquid on the precompiled MJML, html-to-text). */
  renderDuration: Histogram<'channel'>;
  /** Pass as `createChannelWorker` `onRender`. */
  onRender: (render: { channel: string; durationMs: number }) => void;
  /**
   * Exports a channel's provider circuits as `notify_provider_circuit_state{channel,provider,state}` (1 for the
   * current state, 0 for the others), read at each scrape: an open circuit shows before its cool-down ends.
   */
  watchCircuits: (channel: string, read: () => Record<string, CircuitState>) => void;
}

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];

/** Registers the worker series on `registry`. */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const sends = new Counter({
    name: 'notify_channel_send_attempts_total',
    help: 'Provider calls by channel, provider (e.g. twilio, vonage, an SMTP relay host:port) and result: sent, transient (retried or failed over) or permanent.',
    labelNames: ['channel', 'provider', 'result'] as const,
    registers: [registry],
  });
  const sendDuration = new Histogram({
    name: 'notify_channel_send_duration_seconds',
    help: 'Duration of one provider call.',
    labelNames: ['channel', 'provider', 'result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'notify_deliveries_not_sent_total',
    help: 'Deliveries the recipient rules decided not to send now, by channel and decision: opted-out, suppressed (skipped, never retried) or held (quiet hours).',
    labelNames: ['channel', 'decision'] as const,
    registers: [registry],
  });
  const renderDuration = new Histogram({
    name: 'notify_template_render_duration_seconds',
    help: 'Time to render a template for one delivery, by channel.',
    labelNames: ['channel'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  });
  const watched = new Map<string, () => Record<string, CircuitState>>();
  new Gauge({
    name: 'notify_provider_circuit_state',
    help: 'Circuit breaker of each provider of a channel in this worker process: 1 for its current state (closed, open, half-open), 0 for the others. Open means the provider is skipped (failed over) until a probe after the cool-down succeeds.',
    labelNames: ['channel', 'provider', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, read] of watched)
        for (const [provider, current] of Object.entries(read()))
          for (const state of CIRCUIT_STATES) this.set({ channel, provider, state }, state === current ? 1 : 0);
    },
  });
  return {
    sends,
    sendDuration,
    decisions,
    renderDuration,
    watchCircuits: (channel, read) => void watched.set(channel, read),
    onRender: ({ channel, durationMs }) => renderDuration.observe({ channel }, durationMs / 1000),
    onDecision: ({ channel, decision }) => decisions.inc({ channel, decision }),
    onOutcome: ({ channel, provider, result, durationMs }) => {
      sends.inc({ channel, provider, result });
      sendDuration.observe({ channel, provider, result }, durationMs / 1000);
    },
  };
}
