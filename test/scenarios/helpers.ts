/**
 * Building blocks of the reliability scenarios (test/scenarios/*.test.ts): entry points as real child processes,
 * private Kafka / Temporal instances that a scenario may stop and restart, in-process pipeline parts wired to any
 * endpoints, and small protocol tools (a delaying HTTP proxy, raw envelope records).
 *
 * Nothing here touches the shared dev/test infrastructure beyond creating uniquely-prefixed topics, groups, task
 * queues and workflows on it.
 */
import {
  clientDataConverter,
  devPayloadKeyFile,
  resolvePayloadKeyring,
  workerDataConverter,
} from '../../src/crypto/index.js';
import { spawnEntry as spawnChild } from '../../dev/process-harness/index.js';
import type { ChildHandle } from '../../dev/process-harness/index.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { getChannel } from '../../src/channels/registry.js';
import { childEnvironment, loadConfig } from '../../src/config/config.js';
import type { AppConfig } from '../../src/config/config.js';
import { sinkChannelEnv, startSinks } from '../../dev/sinks/index.js';
import type { RunningSinks } from '../../dev/sinks/index.js';
import {
  ensureKafkaJars,
  ensureTemporalCli,
  privateKafkaOptions,
  resolveInfraPaths,
  startKafka,
  startTemporal,
  stopKafka,
  stopTemporal,
  temporalAddressFor,
} from '../../dev/infra/index.js';
import type { KafkaServerOptions, TemporalServerOptions } from '../../dev/infra/index.js';
import { IngestConsumer } from '../../src/ingest/ingest-consumer.js';
import type { IngestEvent, IngestOptions, WorkflowStarter } from '../../src/ingest/ingest-consumer.js';
import { ingestOptionsFromConfig } from '../../src/ingest/workflow-input.js';
import { createKafka } from '../../src/kafka/create-kafka.js';
import { inject } from 'vitest';
import { encodeEnvelope, hashRequest } from '../../src/kafka/envelope.js';
import type { NotificationEnvelope } from '../../src/kafka/envelope.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import type { NotificationRequest } from '../../src/shared/notification.js';
import { NotificationClient } from '../../src/temporal/notification-client.js';
import { createChannelWorker, createWorkflowWorker } from '../../src/workers/create-workers.js';
import { fastRetryEnv, isolatedEnv } from '../helpers/context.js';
import { freePorts } from '../helpers/infra.js';
import { eventually, testLogger } from '../helpers/kafka.js';
import { quietTemporalRuntime } from '../helpers/quiet-runtime.js';

export { eventually, testLogger };
export type { ChildHandle };

/** Secret the scenario sinks verify webhook signatures with (and the channel config signs with). */
export const SCENARIO_WEBHOOK_SECRET = 'whsec_c2NlbmFyaW8td2ViaG9vay1zZWNyZXQ=';

/** Resolves after `ms`. Used to let time pass on purpose (e.g. beyond a session timeout), never to measure. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A short unique lowercase label. */
export function uniqueLabel(prefix = 's'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

// ───────────────────────────── configuration ─────────────────────────────

/** Where a scenario's pipeline parts connect, and its isolation prefix. */
export interface ScenarioEndpoints {
  kafkaBrokers: string[];
  temporalAddress: string;
  namespace: string;
  prefix: string;
}

/**
 * The environment of every part of one scenario (child processes get it verbatim; in-process parts parse it with
 * `loadConfig`): unique topics, group and task queues, channels pointed at the sinks, fast retries (100 ms initial,
 * 3 attempts), quick ingest back-off. `extra` overrides anything.
 */
export function scenarioEnv(
  endpoints: ScenarioEndpoints,
  sinks: RunningSinks | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    NOTIFY_ENV: 'test',
    LOG_LEVEL: 'info',
    ...isolatedEnv(endpoints),
    // Recipients and suppressions: the `notify` database the global setup ensured.
    DATABASE_URL: inject('databaseUrl'),
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    INGEST_BACKOFF_MAX_MS: '1000',
    TEMPORAL_START_TIMEOUT_MS: '2000',
    NOTIFY_AWAIT_RETRY_MS: '600000',
    WORKER_SHUTDOWN_GRACE_MS: '10000',
    WEBHOOK_SIGNING_SECRET: SCENARIO_WEBHOOK_SECRET,
    // Scenarios exercise delivery, not access control (test/security.test.ts does): no keys, no rate limit. Several
    // processes per scenario: no fixed metrics ports.
    AUTH_DISABLED: 'true',
    RATE_LIMIT_MAX: '0',
    INGEST_METRICS_PORT: '0',
    WORKER_METRICS_PORT: '0',
    TEMPORAL_SDK_METRICS_PORT: '0',
    ...fastRetryEnv(),
  };
  if (sinks !== undefined) {
    Object.assign(
      env,
      sinkChannelEnv({
        httpUrl: sinks.httpUrl,
        smtpHost: '127.0.0.1',
        smtpPort: sinks.smtpPort,
        webhookSecret: SCENARIO_WEBHOOK_SECRET,
      }),
    );
  }
  return { ...env, ...extra };
}

/** The parsed configuration of a scenario environment (fails like the entry points would on a bad value). */
export function scenarioConfig(env: Record<string, string>): AppConfig {
  return loadConfig(env);
}

/** Creates the scenario's ingress and dead-letter topics with the partition count of `config`. */
export async function createScenarioTopics(config: AppConfig): Promise<void> {
  const admin = createKafka({
    brokers: config.KAFKA_BROKERS ?? [],
    clientId: `${config.TEMPORAL_TASK_QUEUE_PREFIX}-admin`,
    logger: testLogger,
  }).admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      {
        topic: config.KAFKA_TOPIC,
        dlqTopic: config.KAFKA_DLQ_TOPIC,
        partitions: config.KAFKA_PARTITIONS,
        replicationFactor: 1,
        retentionMs: 3_600_000,
      },
      testLogger,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Starts in-process dev sinks on ephemeral ports (optionally logging into `logger`, e.g. a {@link captureLogger}). */
export function startScenarioSinks(logger?: Logger): Promise<RunningSinks> {
  return startSinks({ host: '127.0.0.1', httpPort: 0, smtpPort: 0, webhookSecret: SCENARIO_WEBHOOK_SECRET, logger });
}

/** A pino logger that keeps every line (parsed) in memory, to observe what a component did (e.g. a sink fault). */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

// ───────────────────────────── child processes ─────────────────────────────

/** Entry points a scenario can run as a real process (paths relative to the repository root). */
export type EntryPoint =
  'src/api/main.ts' | 'src/ingest/main.ts' | 'src/workers/main.ts' | 'test/scenarios/fixtures/blocking-ingest.ts';

const children = new Set<ChildHandle>();

/**
 * Spawns `node --import tsx <entry> ...args` from the repository root with exactly `env` layered over this process's
 * environment (the tooling's child-process harness). Output is captured (and echoed when TEST_LOG_LEVEL is set, for
 * debugging a scenario).
 */
export function spawnEntry(
  entry: EntryPoint,
  env: Record<string, string>,
  args: string[] = [],
  name: string = entry,
): ChildHandle {
  const echo = process.env.TEST_LOG_LEVEL !== undefined && process.env.TEST_LOG_LEVEL !== 'silent';
  const handle = spawnChild({
    name,
    entry,
    args,
    env: childEnvironment(env),
    onLine: echo ? (line) => process.stderr.write(`[${name}] ${line}\n`) : undefined,
  });
  children.add(handle);
  void handle.exited.then(() => children.delete(handle));
  return handle;
}

/** Stops every child process a scenario spawned and has not stopped yet (for afterAll). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop({ graceMs: 5_000 })));
}

// ───────────────────────────── private infrastructure ─────────────────────────────

/** Folder for one scenario's private servers: `.notify/scenarios/<label>` (git-ignored, removed by `dispose`). */
function privateDir(label: string): string {
  const dir = join(
    resolveInfraPaths(loadConfig({}).NOTIFY_HOME).home,
    'scenarios',
    `${label}-${randomBytes(3).toString('hex')}`,
  );
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A private Temporal dev server with a persistent SQLite file, which a scenario may stop and restart at will. */
export interface PrivateTemporal {
  address: string;
  namespace: string;
  /** Stops the server (SIGTERM); its db file and state stay. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and db file. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  dispose(): Promise<void>;
}

/** Starts a private Temporal dev server on spare ports (never the shared one), with namespace `notify`. */
export async function startPrivateTemporal(label: string): Promise<PrivateTemporal> {
  const config = loadConfig({});
  const cli = await ensureTemporalCli({
    cliPath: config.TEMPORAL_CLI_PATH,
    binDir: resolveInfraPaths(config.NOTIFY_HOME).binDir,
    log: () => undefined,
  });
  const dir = privateDir(`temporal-${label}`);
  const [port, uiPort] = await freePorts(2);
  const opts: TemporalServerOptions = {
    cli,
    port: port ?? 0,
    uiPort: uiPort ?? 0,
    dbFile: join(dir, 'temporal.db'),
    namespace: 'notify',
    sqlitePragmas: config.TEMPORAL_SQLITE_PRAGMAS,
    logFile: join(dir, 'temporal.log'),
    pidFile: join(dir, 'temporal.pid'),
  };
  await startTemporal(opts, () => undefined);
  return {
    address: temporalAddressFor(opts.port),
    namespace: opts.namespace,
    stop: async () => {
      await stopTemporal(opts);
    },
    start: async () => {
      await startTemporal(opts, () => undefined);
    },
    dispose: async () => {
      await stopTemporal(opts);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private single-node Kafka with persistent data, which a scenario may stop and restart at will. */
export interface PrivateKafka {
  brokers: string[];
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Starts a private Kafka broker on spare ports (never the shared one), 256 MB heap. */
export async function startPrivateKafka(label: string): Promise<PrivateKafka> {
  const config = loadConfig({});
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  const libDir = await ensureKafkaJars({
    kafkaVersion: config.KAFKA_VERSION,
    kafkaDir: paths.kafkaDir,
    libDir: paths.kafkaLib,
    log: () => undefined,
  });
  const dir = privateDir(`kafka-${label}`);
  const [port, controllerPort] = await freePorts(2);
  const opts: KafkaServerOptions = privateKafkaOptions(dir, {
    libDir,
    port: port ?? 0,
    controllerPort: controllerPort ?? 0,
  });
  await startKafka(opts, () => undefined);
  return {
    brokers: [`127.0.0.1:${opts.port}`],
    stop: async () => {
      await stopKafka(opts);
    },
    start: async () => {
      await startKafka(opts, () => undefined);
    },
    dispose: async () => {
      await stopKafka(opts);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ───────────────────────────── in-process pipeline parts ─────────────────────────────

/** A Temporal client for a scenario: the application's NotificationClient plus the raw client. */
export interface ScenarioTemporal {
  client: Client;
  notifications: NotificationClient;
  close(): Promise<void>;
}

/** Connects a client to `address` (the same NotificationClient ingest and the gateway use). */
export async function connectScenarioTemporal(config: AppConfig): Promise<ScenarioTemporal> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS ?? '' });
  // Spawned workers encrypt with the dev payload key; this client must decode their results and query answers.
  const dataConverter = clientDataConverter(
    resolvePayloadKeyring(config, devPayloadKeyFile(config.NOTIFY_HOME)).keyring,
  );
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  return {
    client,
    notifications: new NotificationClient(client, { taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX }),
    close: () => connection.close(),
  };
}

/** Number of runs (open or closed) with this workflow id: 1 means "started exactly once". */
export async function runsOf(client: Client, id: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${id}'` })) n++;
  return n;
}

/** In-process Temporal workers of a scenario. */
export interface ScenarioWorkers {
  close(): Promise<void>;
}

/** Runs a workflow worker and/or channel workers in this process, configured from `config`. */
export async function startScenarioWorkers(
  config: AppConfig,
  what: { workflows: boolean; channels: string[] },
): Promise<ScenarioWorkers> {
  quietTemporalRuntime();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS ?? '' });
  const dataConverter = workerDataConverter(
    resolvePayloadKeyring(config, devPayloadKeyFile(config.NOTIFY_HOME)).keyring,
  );
  const base = {
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
    shutdownGraceTimeMs: 1_000,
    dataConverter,
  };
  const workers: Worker[] = [];
  const closers: Array<() => Promise<void>> = [];
  if (what.workflows)
    workers.push(
      await createWorkflowWorker({
        ...base,
        maxConcurrentWorkflowTaskExecutions: 20,
        maxCachedWorkflows: 50,
        client: new Client({
          connection,
          namespace: config.TEMPORAL_NAMESPACE,
          dataConverter: clientDataConverter(
            resolvePayloadKeyring(config, devPayloadKeyFile(config.NOTIFY_HOME)).keyring,
          ),
        }),
      }),
    );
  for (const name of what.channels) {
    const channel = getChannel(name);
    const runtime = config.channels[name];
    if (channel === undefined || runtime === undefined) throw new Error(`unknown channel ${name}`);
    const { worker, sender } = await createChannelWorker({ ...base, channel, runtime, logger: testLogger });
    workers.push(worker);
    closers.push(() => sender.close());
  }
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    close: async () => {
      for (const w of workers) w.shutdown();
      await running.catch(() => undefined);
      await Promise.allSettled(closers.map((c) => c()));
      await connection.close();
    },
  };
}

/** Options of {@link startScenarioIngest} beyond the configuration. */
export interface ScenarioIngestOptions {
  starter: WorkflowStarter;
  onEvent?: (event: IngestEvent) => void;
  afterStart?: IngestOptions['afterStart'];
  clientId?: string;
}

/** Runs one IngestConsumer in this process (as `src/ingest/main.ts` builds it) against the scenario's Kafka. */
export async function startScenarioIngest(config: AppConfig, options: ScenarioIngestOptions): Promise<IngestConsumer> {
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS ?? [],
    clientId: options.clientId ?? `${config.TEMPORAL_TASK_QUEUE_PREFIX}-ingest`,
    logger: testLogger,
  });
  const consumer = new IngestConsumer(
    ingestOptionsFromConfig(config, {
      kafka,
      starter: options.starter,
      logger: testLogger,
      onEvent: options.onEvent,
      afterStart: options.afterStart,
      // A spawned gateway seals requests with the dev payload key.
      payloadKeyring: resolvePayloadKeyring(config, devPayloadKeyFile(config.NOTIFY_HOME)).keyring,
    }),
  );
  await consumer.start();
  return consumer;
}

/** Sum of a group's committed offsets over a topic (partitions without a commit count as 0). */
export async function committedTotal(brokers: string[], groupId: string, topic: string): Promise<bigint> {
  const admin = createKafka({ brokers, clientId: 'scenario-offsets', logger: testLogger }).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + (BigInt(p.offset) > 0n ? BigInt(p.offset) : 0n), 0n);
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's state and member ids: the same member id later means the member was never evicted. */
export async function groupMembers(brokers: string[], groupId: string): Promise<{ state: string; members: string[] }> {
  const admin = createKafka({ brokers, clientId: 'scenario-groups', logger: testLogger }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    return { state: group?.state ?? 'Unknown', members: (group?.members ?? []).map((m) => m.memberId).sort() };
  } finally {
    await admin.disconnect();
  }
}

// ───────────────────────────── records and requests ─────────────────────────────

/** A valid SMS notification request to `to` (the scenarios' default channel: HTTP, so faults are easy to inject). */
export function smsRequest(to: string, extra: Partial<NotificationRequest> = {}): NotificationRequest {
  return {
    routing: 'all',
    deliveries: [{ channel: 'sms', to, content: { body: `scenario message for ${to}` } }],
    ...extra,
  };
}

/** A fresh notification id in the gateway's format. */
export function newId(): string {
  return `ntf_${randomBytes(16).toString('hex')}`;
}

/** A valid Kafka record for `request`, exactly as the gateway writes it. */
export function envelopeRecord(
  id: string,
  request: NotificationRequest,
): { key: string; value: string; headers: Record<string, string> } {
  const envelope: NotificationEnvelope = {
    v: 1,
    id,
    clientId: 'anonymous',
    acceptedAt: new Date().toISOString(),
    bodyHash: hashRequest(request),
    request,
  };
  const record = encodeEnvelope(envelope);
  return { key: record.key, value: record.value, headers: record.headers as Record<string, string> };
}

/** Produces records with acks = all (a plain, non-idempotent producer: for setting up scenarios). */
export async function produce(
  brokers: string[],
  topic: string,
  messages: Array<{ key?: string | null; value: string | Buffer | null; headers?: Record<string, string> }>,
): Promise<void> {
  const producer = createKafka({ brokers, clientId: 'scenario-producer', logger: testLogger }).producer({
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

// ───────────────────────────── protocol tools ─────────────────────────────

/** A slow provider in front of the sinks: forwards each request at once, then holds the answer for `delayMs`. */
export interface DelayingProxy {
  url: string;
  /** Requests forwarded so far whose answer has not been released yet. */
  inFlight(): number;
  /** Requests received so far. */
  received(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy to `targetUrl` that delays every answer by `delayMs` after the target answered: the provider has
 * accepted the message while the caller still waits, like a slow real provider.
 */
export async function startDelayingProxy(targetUrl: string, delayMs: number): Promise<DelayingProxy> {
  let inFlight = 0;
  let received = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    received++;
    inFlight++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length'),
      ) as Record<string, string>;
      fetch(`${targetUrl}${req.url ?? ''}`, {
        method: req.method,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      })
        .then(async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          await sleep(delayMs);
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(body);
        })
        .catch(() => res.destroy())
        .finally(() => inFlight--);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inFlight: () => inFlight,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
