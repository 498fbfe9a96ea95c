import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { gatewayAuthSettings } from '../auth/settings.js';
import { eventEndpointRules, resolveEndpoints } from '../config/config.js';
import { clientDataConverter } from '../crypto/data-converter.js';
import { createKafka } from '../kafka/create-kafka.js';
import { createGatewayProducer } from '../kafka/gateway-producer.js';
import { createGatewayMetrics, createMetricsRegistry } from '../observability/metrics.js';
import { tracingFromConfig } from '../observability/tracing.js';
import { kafkaSecurityFromConfig, temporalTlsFromConfig } from '../tls/transport-security.js';
import { NotificationClient } from '../temporal/notification-client.js';
import { ensureConfiguredTopics, runEntryPoint } from '../runtime/entry-point.js';
import type { EntryPointContext } from '../runtime/entry-point.js';
import { createPool, migrateWhenReachable, resolveDatabaseUrl } from '../db/index.js';
import { RecipientStore } from '../recipients/store.js';
import { EndpointPresence } from '../events/endpoint-presence.js';
import { WebhookEndpointStore } from '../events/store.js';
import { loadTemplateStore } from '../templates/index.js';
import { buildApp } from './app.js';

/** Gateway entry point: `npm run gateway`. Builds real dependencies from the config and serves HTTP. */
async function start({ config, logger, keyring, keySource: source }: EntryPointContext): Promise<() => Promise<void>> {
  const auth = gatewayAuthSettings(config);
  logger.info(
    {
      apiKeys: auth.disabled === true ? 0 : auth.keys.length,
      payloadKeyId: keyring.currentKeyId,
      payloadKeySource: source,
    },
    'security settings',
  );
  // Templates compile before anything connects: one that does not compile stops the gateway, naming file and line.
  const templates = await loadTemplateStore({
    dir: config.TEMPLATES_DIR,
    defaultLocale: config.TEMPLATES_DEFAULT_LOCALE,
  });
  logger.info({ templates: templates.list().map((t) => `${t.name}@${t.version}`) }, 'templates compiled');
  // Transport security first: a wrong certificate path fails start-up before anything connects.
  const kafkaSecurity = kafkaSecurityFromConfig(config);
  const temporalTls = temporalTlsFromConfig(config);
  const tracing = tracingFromConfig(config, 'gateway');
  const registry = createMetricsRegistry('gateway');
  const metrics = createGatewayMetrics(registry);
  const { kafkaBrokers, temporalAddress } = resolveEndpoints(config);
  const kafka = createKafka({
    brokers: kafkaBrokers,
    clientId: `${config.KAFKA_CLIENT_ID}-gateway`,
    logger,
    security: kafkaSecurity,
  });

  const admin = await ensureConfiguredTopics(kafka, config, logger);
  await admin.disconnect();

  const producer = createGatewayProducer({
    client: config.KAFKA_PRODUCER_CLIENT,
    kafka,
    brokers: kafkaBrokers,
    clientId: `${config.KAFKA_CLIENT_ID}-gateway`,
    security: kafkaSecurity,
    topic: config.KAFKA_TOPIC,
    logger,
    lingerMs: config.KAFKA_LINGER_MS,
    maxBatchRecords: config.KAFKA_MAX_BATCH_RECORDS,
    timeoutMs: config.KAFKA_PRODUCE_TIMEOUT_MS,
    onBatch: metrics.onBatch,
  });
  await producer.connect();
  logger.info({ client: config.KAFKA_PRODUCER_CLIENT }, 'Kafka producer connected');
  // Lazy: the accept path must not depend on Temporal being up.
  const connection = Connection.lazy({ address: temporalAddress, tls: temporalTls });
  const notifications = new NotificationClient(
    new Client({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      dataConverter: clientDataConverter(keyring),
      interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    }),
    { taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX },
  );

  // Recipients API and the submit-time recipient check; the accept path for explicit addresses never touches it.
  const pool = createPool(resolveDatabaseUrl(config), { max: config.DATABASE_POOL_MAX, logger });
  await migrateWhenReachable(pool, logger);
  const recipients = new RecipientStore(pool);
  const webhookEndpoints = new WebhookEndpointStore(pool, keyring);
  const presence = new EndpointPresence((owner) => webhookEndpoints.hasEnabledEndpoint(owner), {
    ttlMs: config.WEBHOOK_EVENTS_PRESENCE_TTL_MS,
    onError: (err, owner) =>
      logger.warn(
        { clientId: owner, err: { message: err instanceof Error ? err.message : String(err) } },
        'webhook endpoint lookup failed; emitting delivery events',
      ),
  });

  const app = await buildApp({
    config,
    producer,
    notifications,
    logger,
    auth,
    payloadKeyring: keyring,
    recipients,
    webhookEndpoints: {
      store: webhookEndpoints,
      presence,
      urlRules: eventEndpointRules(config),
      secretOverlapMs: config.WEBHOOK_EVENTS_SECRET_OVERLAP_MS,
    },
    templates,
    observability: { registry, metrics, tracer: tracing.tracer, tracingEnabled: tracing.enabled },
  });
  await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  logger.info({ url: `http://${config.HTTP_HOST}:${config.HTTP_PORT}` }, 'gateway listening');

  return async () => {
    await app.close();
    await producer.close();
    await connection.close();
    await pool.end();
    await tracing.shutdown();
  };
}

runEntryPoint('gateway', start);
