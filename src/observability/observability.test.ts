import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, testEnvironment } from '../../test/helpers/context.js';
import { freePort } from '../../test/helpers/infra.js';
import { eventually, testLogger } from '../../test/helpers/kafka.js';
import { buildApp } from '../api/app.js';
import { getChannel } from '../channels/registry.js';
import type { ChannelSender } from '../channels/types.js';
import { loadConfig } from '../config/config.js';
import { startSinks } from '../../dev/sinks/index.js';
import { IngestConsumer } from '../ingest/ingest-consumer.js';
import { buildWorkflowInput, isPermanentStartError } from '../ingest/workflow-input.js';
import { BatchingProducer } from '../kafka/batching-producer.js';
import { createKafka } from '../kafka/create-kafka.js';
import { ensureTopics } from '../kafka/topics.js';
import { createLogger } from '../logging/create-logger.js';
import { NotificationClient } from '../temporal/notification-client.js';
import { createChannelWorker, createWorkflowWorker } from '../workers/create-workers.js';
import { installTemporalRuntime } from '../workers/install-runtime.js';
import { fetchConsumerLag, startLagPoller } from './consumer-lag.js';
import { createGatewayMetrics, createIngestMetrics, createMetricsRegistry, createWorkerMetrics } from './metrics.js';
import { fetchExposition, startMetricsServer } from './metrics-server.js';
import type { MetricsServer } from './metrics-server.js';
import { setupTracing } from './tracing.js';
import type { Tracing } from './tracing.js';

/**
 * Metrics and tracing over the real pipeline: gateway (HTTP) → real Kafka → ingest → real Temporal → channel workers →
 * real senders → dev sinks, each part instrumented as its entry point instruments it, with spans collected in memory.
 */
const t = testEnvironment();
const exporter = new InMemorySpanExporter();
const workerLogLines: Array<Record<string, unknown>> = [];
let tracing: Tracing;
let sinks: Awaited<ReturnType<typeof startSinks>>;
let app: FastifyInstance;
let url: string;
let producer: BatchingProducer;
let admin: Admin;
let consumer: IngestConsumer;
let clientConnection: Connection;
let workerConnection: NativeConnection;
let workers: Worker[] = [];
let running: Promise<unknown> | undefined;
const senders: ChannelSender<unknown, unknown>[] = [];
let ingestMetricsServer: MetricsServer;
let workerMetricsServer: MetricsServer;
let lag: ReturnType<typeof startLagPoller>;
let startIngest: () => Promise<void>;
let topic: string;
let groupId: string;

beforeAll(async () => {
  tracing = setupTracing({ serviceName: 'notify-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const sdkMetricsAddress = `127.0.0.1:${await freePort()}`;
  // Once per process, before any worker: the SDK then serves its own Prometheus metrics.
  installTemporalRuntime(testLogger, 'WARN', { prometheusBindAddress: sdkMetricsAddress });
  sinks = await startSinks({ host: '127.0.0.1', httpPort: 0, smtpPort: 0, webhookSecret: 'whsec_observability_test' });
  const config = loadConfig({
    ...isolatedEnv(t),
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    EMAIL_PORT: String(sinks.smtpPort),
    SMS_BASE_URL: sinks.httpUrl,
    SMS_RETRY_INITIAL_INTERVAL_MS: '100',
    EMAIL_RETRY_INITIAL_INTERVAL_MS: '100',
  });
  topic = config.KAFKA_TOPIC;
  groupId = config.KAFKA_CONSUMER_GROUP;
  const kafka = createKafka({ brokers: t.kafkaBrokers, clientId: `${t.prefix}-obs`, logger: testLogger });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    { topic, dlqTopic: config.KAFKA_DLQ_TOPIC, partitions: 3, replicationFactor: 1, retentionMs: 3_600_000 },
    testLogger,
  );

  clientConnection = await Connection.connect({ address: t.temporalAddress });
  const client = new Client({
    connection: clientConnection,
    namespace: t.namespace,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
  const notifications = new NotificationClient(client, { taskQueuePrefix: t.prefix });

  // Gateway, as src/api/main.ts wires it.
  const gatewayRegistry = createMetricsRegistry('gateway');
  const gatewayMetrics = createGatewayMetrics(gatewayRegistry);
  producer = new BatchingProducer({
    kafka,
    topic,
    logger: testLogger,
    lingerMs: 2,
    maxBatchRecords: 500,
    timeoutMs: 10_000,
    onBatch: gatewayMetrics.onBatch,
  });
  await producer.connect();
  // API-key auth is off: this test is about instrumentation (a variable, not a literal: the auth field is new).
  const deps = {
    config,
    producer,
    notifications,
    logger: testLogger,
    auth: { disabled: true as const },
    observability: { registry: gatewayRegistry, metrics: gatewayMetrics, tracer: tracing.tracer },
  };
  app = await buildApp(deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  // Ingest, as src/ingest/main.ts wires it (started by the test, so that lag can build up first).
  const ingestRegistry = createMetricsRegistry('ingest');
  const ingestMetrics = createIngestMetrics(ingestRegistry);
  consumer = new IngestConsumer({
    kafka,
    topic,
    dlqTopic: config.KAFKA_DLQ_TOPIC,
    groupId,
    starter: notifications,
    buildInput: (e) => buildWorkflowInput(e, config),
    logger: testLogger,
    concurrency: 8,
    partitionsConcurrently: 3,
    maxRecordBytes: config.INGEST_MAX_RECORD_BYTES,
    startTimeoutMs: 10_000,
    backoffMaxMs: 1_000,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    isPermanentStartError,
    onEvent: ingestMetrics.onEvent,
  });
  startIngest = () => consumer.start();
  lag = startLagPoller({ admin, topic, groupId, gauge: ingestMetrics.lag, intervalMs: 200, logger: testLogger });
  ingestMetricsServer = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: ingestRegistry });

  // Workers, as src/workers/main.ts wires them, logging to a captured stream.
  const workerLogger = createLogger({
    level: 'info',
    component: 'worker',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line.trim() !== '') workerLogLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });
  const workerRegistry = createMetricsRegistry('worker');
  const workerMetrics = createWorkerMetrics(workerRegistry);
  workerConnection = await NativeConnection.connect({ address: t.temporalAddress });
  workers = [
    await createWorkflowWorker({
      connection: workerConnection,
      namespace: t.namespace,
      taskQueuePrefix: t.prefix,
      maxConcurrentWorkflowTaskExecutions: 20,
      maxCachedWorkflows: 50,
      shutdownGraceTimeMs: 1_000,
      tracing,
    }),
  ];
  for (const name of ['email', 'sms']) {
    const channel = getChannel(name);
    const runtime = config.channels[name];
    if (channel === undefined || runtime === undefined) throw new Error(`channel ${name} missing`);
    const { worker, sender } = await createChannelWorker({
      connection: workerConnection,
      namespace: t.namespace,
      taskQueuePrefix: t.prefix,
      channel,
      runtime,
      logger: workerLogger.child({ channel: name }),
      shutdownGraceTimeMs: 1_000,
      onOutcome: workerMetrics.onOutcome,
      tracing: true,
    });
    workers.push(worker);
    senders.push(sender);
  }
  running = Promise.all(workers.map((w) => w.run()));
  workerMetricsServer = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    registry: workerRegistry,
    extra: () => fetchExposition(`http://${sdkMetricsAddress}/metrics`),
  });
}, 180_000);

afterAll(async () => {
  await app?.close();
  await consumer?.stop().catch(() => undefined);
  await producer?.close().catch(() => undefined);
  await lag?.stop();
  await admin?.disconnect();
  for (const w of workers) w.shutdown();
  await running?.catch(() => undefined);
  await Promise.allSettled(senders.map((s) => s.close()));
  await workerConnection?.close();
  await clientConnection?.close();
  await ingestMetricsServer?.close();
  await workerMetricsServer?.close();
  await sinks?.close();
  await tracing?.shutdown();
});

/** The value of the series `name` whose labels include `labels` (undefined when there is none). */
function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = new Map([...(match[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(match[4]);
  }
  return undefined;
}

async function scrape(target: string): Promise<string> {
  const res = await fetch(target);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

async function submit(body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/v1/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return String(((await res.json()) as { id: string }).id);
}

async function waitForSent(id: string): Promise<void> {
  await eventually(
    async () => {
      const res = await fetch(`${url}/v1/notifications/${id}`);
      return res.ok && ((await res.json()) as { status: string }).status === 'sent';
    },
    `${id} to be sent`,
    30_000,
  );
}

const email = (to: string) => ({
  deliveries: [{ channel: 'email', to, content: { subject: 'Metrics', text: 'hello' } }],
});
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('metrics and tracing', () => {
  const ids: string[] = [];
  let smsId = '';

  it('shows lag while ingest is stopped, then counts every stage once the load is processed', async () => {
    sinks.setFaults([{ channel: 'sms', fault: '5xx', failFirst: 1 }]);
    for (let i = 0; i < 4; i++)
      ids.push(
        await submit(
          email(`metrics${i}@example.com`),
          i === 0 ? { traceparent: `00-${CALLER_TRACE_ID}-00f067aa0ba902b7-01` } : {},
        ),
      );
    smsId = await submit({ deliveries: [{ channel: 'sms', to: '+14155550142', content: { body: 'metrics' } }] });

    // Nothing consumed yet: the lag is the 5 accepted records.
    const before = await fetchConsumerLag(admin, topic, groupId);
    expect([...before.values()].reduce((a, b) => a + b, 0)).toBe(5);
    await lag.poll();
    const ingestBefore = await scrape(ingestMetricsServer.url);
    expect(
      [0, 1, 2]
        .map((p) => sample(ingestBefore, 'notify_ingest_consumer_lag', { topic, partition: String(p) }) ?? 0)
        .reduce((a, b) => a + b, 0),
    ).toBe(5);

    await startIngest();
    for (const id of [...ids, smsId]) await waitForSent(id);

    const gateway = await scrape(`${url}/metrics`);
    expect(
      sample(gateway, 'notify_http_requests_total', {
        route: '/v1/notifications',
        method: 'POST',
        status: '202',
        component: 'gateway',
      }),
    ).toBe(5);
    expect(
      sample(gateway, 'notify_http_request_duration_seconds_count', {
        route: '/v1/notifications',
        method: 'POST',
        status: '202',
      }),
    ).toBe(5);
    expect(
      sample(gateway, 'notify_http_requests_total', { route: '/v1/notifications/:id', method: 'GET', status: '200' }),
    ).toBeGreaterThanOrEqual(5);
    expect(sample(gateway, 'notify_kafka_produce_batch_records_sum')).toBe(5);
    const batches = sample(gateway, 'notify_kafka_produce_batch_records_count') ?? 0;
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'notify_kafka_produce_duration_seconds_count', { outcome: 'ok' })).toBe(batches);
    expect(sample(gateway, 'notify_kafka_produce_errors_total')).toBe(0);
    expect(sample(gateway, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    const ingest = await scrape(ingestMetricsServer.url);
    expect(sample(ingest, 'notify_ingest_records_total', { result: 'started' })).toBe(5);
    expect(sample(ingest, 'notify_ingest_workflow_starts_total', { outcome: 'started' })).toBe(5);
    expect(sample(ingest, 'notify_ingest_workflow_start_duration_seconds_count', { outcome: 'started' })).toBe(5);
    expect(sample(ingest, 'notify_ingest_records_total', { result: 'dead-lettered' })).toBeUndefined();
    await eventually(
      async () => {
        await lag.poll();
        const now = await scrape(ingestMetricsServer.url);
        return [0, 1, 2].every((p) => sample(now, 'notify_ingest_consumer_lag', { topic, partition: String(p) }) === 0);
      },
      'consumer lag to drop to 0',
      15_000,
    );

    const worker = await scrape(workerMetricsServer.url);
    expect(sample(worker, 'notify_channel_send_attempts_total', { channel: 'email', result: 'sent' })).toBe(4);
    expect(sample(worker, 'notify_channel_send_attempts_total', { channel: 'sms', result: 'transient' })).toBe(1);
    expect(sample(worker, 'notify_channel_send_attempts_total', { channel: 'sms', result: 'sent' })).toBe(1);
    // Every series names the provider that was called (one SMS provider here: Twilio).
    expect(
      sample(worker, 'notify_channel_send_attempts_total', { channel: 'sms', provider: 'twilio', result: 'sent' }),
    ).toBe(1);
    expect(sample(worker, 'notify_channel_send_duration_seconds_count', { channel: 'email', result: 'sent' })).toBe(4);
    // The Temporal SDK's own series, re-served on the same endpoint.
    expect(worker).toMatch(/^temporal_\w+/m);
  });

  it('connects the HTTP request, ingest, the workflow, the activity and the provider call in one trace', async () => {
    const [id] = ids;
    await tracing.forceFlush();
    let spans: ReadableSpan[] = [];
    await eventually(
      async () => {
        await tracing.forceFlush();
        spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === CALLER_TRACE_ID);
        return spans.some((s) => s.name === 'send email');
      },
      'the provider-call span to be exported',
      15_000,
    );
    const byName = (name: string) => spans.find((s) => s.name === name);
    const http = byName('POST /v1/notifications');
    const ingest = byName('ingest start-workflow');
    const start = byName('StartWorkflow:notificationWorkflow');
    const run = byName('RunWorkflow:notificationWorkflow');
    const activity = byName('RunActivity:deliver');
    const send = byName('send email');
    for (const [name, span] of Object.entries({ http, ingest, start, run, activity, send }))
      expect(span, `${name} span in trace ${CALLER_TRACE_ID}`).toBeDefined();
    // The gateway continued the caller's trace and is the parent of ingest's span (via the Kafka header).
    expect(http?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(ingest?.parentSpanId).toBe(http?.spanContext().spanId);
    expect(start?.parentSpanId).toBe(ingest?.spanContext().spanId);
    expect(send?.parentSpanId).toBe(activity?.spanContext().spanId);
    expect(ingest?.attributes['notify.notification_id']).toBe(id);
    expect(send?.attributes['notify.notification_id']).toBe(id);
    expect(send?.attributes['notify.provider_message_id']).toBeTruthy();
    // Other notifications got traces of their own.
    const otherSends = exporter
      .getFinishedSpans()
      .filter((s) => s.name === 'send email' && s.attributes['notify.notification_id'] !== id);
    expect(otherSends.length).toBe(3);
    expect(otherSends.every((s) => s.spanContext().traceId !== CALLER_TRACE_ID)).toBe(true);
  });

  it('logs the notification id and the trace id on the worker lines about a delivery', () => {
    const [id] = ids;
    const delivered = workerLogLines.filter((l) => l.msg === 'delivered');
    expect(delivered).toHaveLength(5);
    expect(new Set(delivered.map((l) => l.notificationId))).toEqual(new Set([...ids, smsId]));
    expect(delivered.find((l) => l.notificationId === id)?.traceId).toBe(CALLER_TRACE_ID);
    const failed = workerLogLines.filter((l) => l.msg === 'delivery attempt failed');
    expect(failed.map((l) => l.notificationId)).toEqual([smsId]);
    expect(typeof failed[0]?.traceId).toBe('string');
  });
});
