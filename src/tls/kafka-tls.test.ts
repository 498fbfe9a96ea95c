import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import { freePorts } from '../../test/helpers/infra.js';
import { eventually, testLogger } from '../../test/helpers/kafka.js';
import { newNotificationId } from '../api/ids.js';
import { loadConfig } from '../config/config.js';
import type { AppConfig } from '../config/config.js';
import { ensureKafkaJars, privateKafkaOptions, startKafka, stopKafka } from '../../dev/infra/kafka.js';
import type { KafkaServerOptions } from '../../dev/infra/kafka.js';
import { resolveInfraPaths } from '../../dev/infra/paths.js';
import { IngestConsumer } from '../ingest/ingest-consumer.js';
import type { IngestEvent } from '../ingest/ingest-consumer.js';
import { buildWorkflowInput, isPermanentStartError } from '../ingest/workflow-input.js';
import { createKafka } from '../kafka/create-kafka.js';
import { createGatewayProducer, PRODUCER_CLIENTS } from '../kafka/gateway-producer.js';
import type { ProducerClient } from '../kafka/gateway-producer.js';
import { encodeEnvelope, hashRequest } from '../kafka/envelope.js';
import { ensureTopics } from '../kafka/topics.js';
import { notificationRequestSchema } from '../schemas/notification.js';
import { ENVELOPE_VERSION } from '../shared/notification.js';
import { NotificationClient } from '../temporal/notification-client.js';
import { createTestCertificates } from '../../test/helpers/test-certificates.js';
import type { TestCertificates } from '../../test/helpers/test-certificates.js';
import { kafkaSecurityFromConfig } from './transport-security.js';

/**
 * Transport security against a real, PRIVATE Kafka broker (own ports and data under .notify/tls-test-*, stopped
 * afterwards) with two extra listeners: SSL requiring client certificates (mTLS), and SASL_SSL with PLAIN. The gateway's
 * producer and the ingest consumer (starting real workflows on the shared Temporal) work through them.
 */
const t = testEnvironment();
const SASL_USER = 'notify';
const SASL_PASSWORD = 'tls-test-secret';
let dir: string;
let certs: TestCertificates;
let server: KafkaServerOptions;
let sslPort: number;
let saslPort: number;
let temporal: Connection;
let client: Client;

beforeAll(async () => {
  const base = loadConfig();
  const paths = resolveInfraPaths(base.NOTIFY_HOME);
  dir = join(paths.home, `tls-test-${t.prefix}`);
  mkdirSync(dir, { recursive: true });
  certs = createTestCertificates(join(dir, 'certs'));
  const libDir = await ensureKafkaJars({
    kafkaVersion: base.KAFKA_VERSION,
    kafkaDir: paths.kafkaDir,
    libDir: paths.kafkaLib,
    log: () => undefined,
  });
  const [port, controllerPort, ssl, sasl] = await freePorts(4);
  sslPort = ssl!;
  saslPort = sasl!;
  const tlsListener = (name: string, clientAuth: 'required' | 'none') => ({
    [`listener.name.${name}.ssl.keystore.type`]: 'PEM',
    [`listener.name.${name}.ssl.keystore.location`]: certs.serverKeystore,
    [`listener.name.${name}.ssl.truststore.type`]: 'PEM',
    [`listener.name.${name}.ssl.truststore.location`]: certs.caCert,
    [`listener.name.${name}.ssl.client.auth`]: clientAuth,
  });
  server = privateKafkaOptions(
    dir,
    { libDir, port: port!, controllerPort: controllerPort! },
    {
      extraListeners: [
        { name: 'SSL', port: sslPort, securityProtocol: 'SSL' },
        { name: 'SASL_SSL', port: saslPort, securityProtocol: 'SASL_SSL' },
      ],
      extraProperties: {
        ...tlsListener('ssl', 'required'),
        ...tlsListener('sasl_ssl', 'none'),
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_ssl.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_USER}="${SASL_PASSWORD}";`,
      },
    },
  );
  await startKafka(server, () => undefined);
  temporal = await Connection.connect({ address: t.temporalAddress });
  client = new Client({ connection: temporal, namespace: t.namespace });
}, 180_000);

afterAll(async () => {
  await temporal?.close();
  if (server !== undefined) await stopKafka(server);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Configuration of one secured setup, as an operator would write it in the environment. */
function secureConfig(env: Record<string, string>, name: string): AppConfig {
  return loadConfig({
    KAFKA_TOPIC: `${t.prefix}-${name}.notifications`,
    KAFKA_DLQ_TOPIC: `${t.prefix}-${name}.notifications.dlq`,
    KAFKA_CONSUMER_GROUP: `${t.prefix}-${name}-ingest`,
    TEMPORAL_TASK_QUEUE_PREFIX: `${t.prefix}-${name}`,
    KAFKA_PARTITIONS: '2',
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    ...env,
  });
}

function kafkaFor(config: AppConfig, clientId: string): Kafka {
  return createKafka({
    brokers: config.KAFKA_BROKERS ?? [],
    clientId,
    logger: testLogger,
    security: kafkaSecurityFromConfig(config),
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
  });
}

function envelopeFor(id: string): ReturnType<typeof encodeEnvelope> {
  const request = notificationRequestSchema.parse({
    deliveries: [{ channel: 'email', to: 'tls@example.com', content: { subject: 'TLS', text: 'over TLS' } }],
  });
  return encodeEnvelope({
    v: ENVELOPE_VERSION,
    id,
    clientId: 'anonymous',
    acceptedAt: new Date().toISOString(),
    bodyHash: hashRequest(request),
    request,
  });
}

/** Produces through the gateway's batching producer and consumes with the ingest consumer, both over `config`'s transport. */
async function roundTrip(config: AppConfig, name: string, producerClient: ProducerClient): Promise<void> {
  const kafka = kafkaFor(config, `${t.prefix}-${name}`);
  const admin = kafka.admin();
  await admin.connect();
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
  await admin.disconnect();

  const producer = createGatewayProducer({
    client: producerClient,
    kafka,
    brokers: config.KAFKA_BROKERS ?? [],
    clientId: `${t.prefix}-${name}`,
    security: kafkaSecurityFromConfig(config),
    topic: config.KAFKA_TOPIC,
    logger: testLogger,
    lingerMs: 2,
    maxBatchRecords: 100,
    timeoutMs: 10_000,
  });
  const events: IngestEvent[] = [];
  const consumer = new IngestConsumer({
    kafka,
    topic: config.KAFKA_TOPIC,
    dlqTopic: config.KAFKA_DLQ_TOPIC,
    groupId: config.KAFKA_CONSUMER_GROUP,
    starter: new NotificationClient(client, { taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX }),
    buildInput: (e) => buildWorkflowInput(e, config),
    logger: testLogger,
    concurrency: 4,
    partitionsConcurrently: 2,
    maxRecordBytes: config.INGEST_MAX_RECORD_BYTES,
    startTimeoutMs: 10_000,
    backoffMaxMs: 1_000,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    isPermanentStartError,
    onEvent: (e) => events.push(e),
  });
  const ids = [newNotificationId(), newNotificationId(), newNotificationId()];
  try {
    await producer.connect();
    await Promise.all(ids.map((id) => producer.send(envelopeFor(id))));
    await consumer.start();
    await eventually(
      () => ids.every((id) => events.some((e) => e.type === 'started' && e.id === id)),
      'ingest to start every workflow',
      // The first group join over TLS waited out 30 s once on a CPU-starved box (two benchmarks beside the suite).
      60_000,
    );
    for (const id of ids) {
      const description = await client.workflow.getHandle(id).describe();
      expect(description.status.name).toBe('RUNNING');
    }
    expect(events.filter((e) => e.type === 'dead-lettered')).toEqual([]);
  } finally {
    await consumer.stop().catch(() => undefined);
    await producer.close().catch(() => undefined);
    // No worker serves these task queues: end the workflows so they do not linger.
    await Promise.allSettled(ids.map((id) => client.workflow.getHandle(id).terminate('tls test done')));
  }
}

/** Whether a kafkajs admin client can talk to the cluster with `config`'s transport settings. */
async function canConnect(config: AppConfig): Promise<{ ok: boolean; error?: string }> {
  const admin = kafkaFor(config, `${t.prefix}-probe`).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

describe('Kafka over TLS', () => {
  it.each(PRODUCER_CLIENTS)(
    'carries notifications from the gateway producer on %s to ingest over an SSL listener that requires client certificates',
    async (producerClient) => {
      const config = secureConfig(
        {
          KAFKA_BROKERS: `127.0.0.1:${sslPort}`,
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: certs.caCert,
          KAFKA_SSL_CERT_FILE: certs.clientCert,
          KAFKA_SSL_KEY_FILE: certs.clientKey,
        },
        `mtls-${producerClient}`,
      );
      await roundTrip(config, `mtls-${producerClient}`, producerClient);
    },
  );

  it.each(PRODUCER_CLIENTS)(
    'carries notifications from the gateway producer on %s over SASL_SSL with PLAIN credentials',
    async (producerClient) => {
      const config = secureConfig(
        {
          KAFKA_BROKERS: `127.0.0.1:${saslPort}`,
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: certs.caCert,
          KAFKA_SASL_MECHANISM: 'plain',
          KAFKA_SASL_USERNAME: SASL_USER,
          KAFKA_SASL_PASSWORD: SASL_PASSWORD,
        },
        `sasl-${producerClient}`,
      );
      await roundTrip(config, `sasl-${producerClient}`, producerClient);
    },
  );

  it('is refused without a client certificate, with a certificate of another CA, and when the broker is not trusted', async () => {
    const brokers = `127.0.0.1:${sslPort}`;
    expect(
      (
        await canConnect(
          secureConfig({ KAFKA_BROKERS: brokers, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: certs.caCert }, 'nocert'),
        )
      ).ok,
    ).toBe(false);
    expect(
      (
        await canConnect(
          secureConfig(
            {
              KAFKA_BROKERS: brokers,
              KAFKA_SSL: 'true',
              KAFKA_SSL_CA_FILE: certs.caCert,
              KAFKA_SSL_CERT_FILE: certs.strangerCert,
              KAFKA_SSL_KEY_FILE: certs.strangerKey,
            },
            'stranger',
          ),
        )
      ).ok,
    ).toBe(false);
    // The client checks the broker too: without our CA, the broker's certificate is not trusted.
    const untrusted = await canConnect(
      secureConfig(
        {
          KAFKA_BROKERS: brokers,
          KAFKA_SSL: 'true',
          KAFKA_SSL_CERT_FILE: certs.clientCert,
          KAFKA_SSL_KEY_FILE: certs.clientKey,
        },
        'untrusted',
      ),
    );
    expect(untrusted.ok).toBe(false);
  });

  it('is refused with a wrong SASL password', async () => {
    const result = await canConnect(
      secureConfig(
        {
          KAFKA_BROKERS: `127.0.0.1:${saslPort}`,
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: certs.caCert,
          KAFKA_SASL_MECHANISM: 'plain',
          KAFKA_SASL_USERNAME: SASL_USER,
          KAFKA_SASL_PASSWORD: 'wrong',
        },
        'badpw',
      ),
    );
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/SASL|authentication|Authentication/);
  });
});
