import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { formatApiKeyEntry, generateApiKey, SCOPES } from '../../src/auth/api-keys.js';
import { clientDataConverter, workerDataConverter } from '../../src/crypto/data-converter.js';
import { generatePayloadKeyEntry, PayloadKeyring } from '../../src/crypto/keyring.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { buildApp } from '../../src/api/app.js';
import { channelRegistry } from '../../src/channels/registry.js';
import { eventEndpointRules, eventRetryPolicy, loadConfig } from '../../src/config/config.js';
import type { AppConfig } from '../../src/config/config.js';
import { sinkChannelEnv, startSinks } from '../../dev/sinks/index.js';
import { IngestConsumer } from '../../src/ingest/ingest-consumer.js';
import type { IngestEvent } from '../../src/ingest/ingest-consumer.js';
import { ingestOptionsFromConfig } from '../../src/ingest/workflow-input.js';
import { createGatewayProducer } from '../../src/kafka/gateway-producer.js';
import { createKafka } from '../../src/kafka/create-kafka.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { NotificationClient } from '../../src/temporal/notification-client.js';
import { createChannelWorker, createEventsWorker, createWorkflowWorker } from '../../src/workers/create-workers.js';
import { EventSender } from '../../src/events/sender.js';
import { EndpointPresence } from '../../src/events/endpoint-presence.js';
import { WebhookEndpointStore } from '../../src/events/store.js';
import { createPool, migrate } from '../../src/db/index.js';
import { RecipientStore } from '../../src/recipients/store.js';
import { loadTemplateStore } from '../../src/templates/index.js';
import { fastRetryEnv, isolatedEnv, testEnvironment } from './context.js';
import { inject } from 'vitest';
import { eventually, testLogger } from './kafka.js';
import { quietTemporalRuntime } from './quiet-runtime.js';

/** Secret the test pipeline's webhook channel signs with and the sinks verify. */
export const TEST_WEBHOOK_SECRET = 'whsec_cGlwZWxpbmUtdGVzdC13ZWJob29rLXNlY3JldA==';

/** The sinks as started by the pipeline. */
export type Sinks = Awaited<ReturnType<typeof startSinks>>;

/** A status answer of the API. */
export interface StatusBody {
  id: string;
  status: string;
  deliveries: Array<{
    channel: string;
    status: string;
    attempts: number;
    providerMessageId?: string;
    provider?: string;
    lastError?: { message: string; permanent: boolean };
    skipReason?: string;
    heldUntil?: string;
    waitingFor?: string;
  }>;
  digestedInto?: string;
  [k: string]: unknown;
}

/** A whole notify pipeline in this process against the real Kafka and Temporal, isolated by a unique prefix. */
export interface Pipeline {
  prefix: string;
  url: string;
  /** API key (every scope) that `post` and `status` send; its name, the client id, is `clientId`. */
  apiKey: string;
  clientId: string;
  /** The payload keys every part of the pipeline encrypts with (Temporal payloads, Kafka records). */
  keyring: PayloadKeyring;
  config: AppConfig;
  sinks: Sinks;
  client: Client;
  /** The recipients store the gateway and channel workers share (PostgreSQL: the global setup's, or `databaseUrl`). */
  recipients: RecipientStore;
  /** The webhook endpoints of delivery events (same pool). */
  webhookEndpoints: WebhookEndpointStore;
  ingestEvents: IngestEvent[];
  /** Any method on a path under the API, with the pipeline's key; `body` undefined sends none. */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: unknown }>;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  status(id: string): Promise<StatusBody>;
  waitForStatus(id: string, status: string, timeoutMs?: number): Promise<StatusBody>;
  close(): Promise<void>;
}

/**
 * Starts sinks, gateway (HTTP on an ephemeral port), ingest consumers, a workflow worker and channel workers wired to
 * the sinks. Retries are fast (100 ms initial, 3 attempts) so failure paths finish quickly.
 */
export async function startPipeline(
  options: {
    env?: Record<string, string>;
    /** More settings that depend on where the sinks listen (e.g. EMAIL_SMTP_URLS naming the second SMTP sink). */
    sinkEnv?: (sinks: Sinks) => Record<string, string>;
    ingestConsumers?: number;
    workersPerChannel?: number;
    /** Receives every log line of the gateway, ingest and workers (at debug level), e.g. to check for PII. */
    logDestination?: DestinationStream;
    /** Other Kafka / Temporal than the shared test ones (e.g. a private cluster); topics then get the cluster's replication. */
    endpoints?: { kafkaBrokers: string[]; temporalAddress: string };
    /** PostgreSQL for recipients (default: the `notify` database the global setup provides). */
    databaseUrl?: string;
  } = {},
): Promise<Pipeline> {
  quietTemporalRuntime();
  const t = { ...testEnvironment(), ...options.endpoints };
  const sinks = await startSinks({
    host: '127.0.0.1',
    httpPort: 0,
    smtpPort: 0,
    smtp2Port: 0,
    webhookSecret: TEST_WEBHOOK_SECRET,
  });
  const apiKey = generateApiKey();
  const clientId = `${t.prefix}-client`;
  const config = loadConfig({
    ...isolatedEnv(t),
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    INGEST_BACKOFF_MAX_MS: '1000',
    NOTIFY_AWAIT_RETRY_MS: '600000',
    ...sinkChannelEnv({
      httpUrl: sinks.httpUrl,
      smtpHost: '127.0.0.1',
      smtpPort: sinks.smtpPort,
      webhookSecret: TEST_WEBHOOK_SECRET,
    }),
    ...fastRetryEnv({ senderTimeoutMs: 3_000 }),
    PAYLOAD_KEYS: generatePayloadKeyEntry(`${t.prefix}-k1`),
    ...options.env,
    ...options.sinkEnv?.(sinks),
    // The pipeline's own key (used by post/status) plus any keys the test configures.
    API_KEYS: [options.env?.API_KEYS, formatApiKeyEntry(clientId, SCOPES, apiKey)]
      .filter((k) => k !== undefined && k !== '')
      .join(','),
  });
  const keyring = PayloadKeyring.fromSpec(config.PAYLOAD_KEYS ?? '', config.PAYLOAD_KEY_ID);
  const logger =
    options.logDestination !== undefined
      ? createLogger({ level: 'debug', component: 'pipeline', destination: options.logDestination })
      : testLogger;
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS ?? [], clientId: `${t.prefix}-pipeline`, logger });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    {
      topic: config.KAFKA_TOPIC,
      dlqTopic: config.KAFKA_DLQ_TOPIC,
      partitions: config.KAFKA_PARTITIONS,
      replicationFactor: options.endpoints === undefined ? 1 : config.KAFKA_REPLICATION_FACTOR,
      retentionMs: 3_600_000,
    },
    logger,
  );
  await admin.disconnect();

  const clientConnection = await Connection.connect({ address: t.temporalAddress });
  const client = new Client({
    connection: clientConnection,
    namespace: t.namespace,
    dataConverter: clientDataConverter(keyring),
  });
  const notifications = new NotificationClient(client, { taskQueuePrefix: t.prefix });

  const pool = createPool(options.databaseUrl ?? inject('databaseUrl'), { max: 5, logger });
  await migrate(pool);
  const recipients = new RecipientStore(pool);
  const webhookEndpoints = new WebhookEndpointStore(pool, keyring);
  const preferenceDefaults = {
    optInCategories: config.PREFERENCE_OPT_IN_CATEGORIES,
    urgentCategories: config.URGENT_CATEGORIES,
  };

  // Templates (TEMPLATES_DIR, default templates/): one compiled store, as a process has, for the gateway and workers.
  const templates = await loadTemplateStore({
    dir: config.TEMPLATES_DIR,
    defaultLocale: config.TEMPLATES_DEFAULT_LOCALE,
  });

  // The gateway's producer as src/api/main.ts builds it, on the configured client library (the default unless a test sets one).
  const producer = createGatewayProducer({
    client: config.KAFKA_PRODUCER_CLIENT,
    kafka,
    brokers: config.KAFKA_BROKERS ?? [],
    clientId: `${t.prefix}-pipeline`,
    topic: config.KAFKA_TOPIC,
    logger,
    lingerMs: config.KAFKA_LINGER_MS,
    maxBatchRecords: config.KAFKA_MAX_BATCH_RECORDS,
    timeoutMs: config.KAFKA_PRODUCE_TIMEOUT_MS,
  });
  await producer.connect();
  const app: FastifyInstance = await buildApp({
    config,
    producer,
    notifications,
    logger,
    auth: config.AUTH_DISABLED ? { disabled: true } : { keys: config.API_KEYS ?? [] },
    payloadKeyring: keyring,
    recipients,
    webhookEndpoints: {
      store: webhookEndpoints,
      presence: new EndpointPresence((owner) => webhookEndpoints.hasEnabledEndpoint(owner), {
        ttlMs: config.WEBHOOK_EVENTS_PRESENCE_TTL_MS,
      }),
      urlRules: eventEndpointRules(config),
      secretOverlapMs: config.WEBHOOK_EVENTS_SECRET_OVERLAP_MS,
    },
    templates,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const ingestEvents: IngestEvent[] = [];
  const consumers: IngestConsumer[] = [];
  for (let i = 0; i < (options.ingestConsumers ?? 1); i++) {
    const consumer = new IngestConsumer(
      ingestOptionsFromConfig(config, {
        kafka,
        starter: notifications,
        logger,
        payloadKeyring: keyring,
        onEvent: (e) => ingestEvents.push(e),
      }),
    );
    await consumer.start();
    consumers.push(consumer);
  }

  const workerConnection = await NativeConnection.connect({ address: t.temporalAddress });
  const workers: Worker[] = [
    await createWorkflowWorker({
      connection: workerConnection,
      namespace: t.namespace,
      taskQueuePrefix: t.prefix,
      maxConcurrentWorkflowTaskExecutions: 40,
      maxCachedWorkflows: 100,
      shutdownGraceTimeMs: 1_000,
      dataConverter: workerDataConverter(keyring),
      client,
    }),
  ];
  const closers: Array<() => Promise<void>> = [];
  for (const channel of channelRegistry) {
    const runtime = config.channels[channel.name];
    if (runtime === undefined) continue;
    for (let i = 0; i < (options.workersPerChannel ?? 1); i++) {
      const { worker, sender } = await createChannelWorker({
        connection: workerConnection,
        namespace: t.namespace,
        taskQueuePrefix: t.prefix,
        channel: channel,
        runtime,
        logger,
        shutdownGraceTimeMs: 1_000,
        dataConverter: workerDataConverter(keyring),
        recipients,
        preferenceDefaults,
        templates,
      });
      workers.push(worker);
      closers.push(() => sender.close());
    }
  }
  // Delivery events (off in tests unless WEBHOOK_EVENTS_ENABLED=true): the worker of the `<prefix>-events` queue.
  if (config.WEBHOOK_EVENTS_ENABLED) {
    const sender = new EventSender(eventEndpointRules(config));
    workers.push(
      await createEventsWorker({
        connection: workerConnection,
        client,
        namespace: t.namespace,
        taskQueuePrefix: t.prefix,
        store: webhookEndpoints,
        sender,
        retry: eventRetryPolicy(config),
        logger,
        concurrency: 20,
        shutdownGraceTimeMs: 1_000,
        dataConverter: workerDataConverter(keyring),
      }),
    );
    closers.push(() => Promise.resolve(sender.close()));
  }
  const running = Promise.all(workers.map((w) => w.run()));

  const post: Pipeline['post'] = async (path, body, headers = {}) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const request: Pipeline['request'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };
  const status = async (id: string) =>
    (await (
      await fetch(`${url}/v1/notifications/${id}`, { headers: { authorization: `Bearer ${apiKey}` } })
    ).json()) as StatusBody;
  const waitForStatus = async (id: string, wanted: string, timeoutMs = 30_000) => {
    let last: StatusBody | undefined;
    await eventually(
      async () => {
        last = await status(id);
        return last.status === wanted;
      },
      `${id} to become ${wanted}`,
      timeoutMs,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; last status: ${JSON.stringify(last)}`);
    });
    return last as StatusBody;
  };

  return {
    prefix: t.prefix,
    url,
    apiKey,
    clientId,
    keyring,
    config,
    sinks,
    client,
    recipients,
    webhookEndpoints,
    ingestEvents,
    request,
    post,
    status,
    waitForStatus,
    close: async () => {
      await app.close();
      await Promise.allSettled(consumers.map((c) => c.stop()));
      await producer.close().catch(() => undefined);
      for (const w of workers) w.shutdown();
      await running.catch(() => undefined);
      await Promise.allSettled(closers.map((c) => c()));
      await workerConnection.close();
      await clientConnection.close();
      await pool.end();
      await sinks.close();
    },
  };
}
