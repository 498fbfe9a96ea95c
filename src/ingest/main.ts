import { resolveEndpoints } from '../config/config.js';
import { clientDataConverter } from '../crypto/data-converter.js';
import { createKafka } from '../kafka/create-kafka.js';
import { startLagPoller } from '../observability/consumer-lag.js';
import { createIngestMetrics, createMetricsRegistry } from '../observability/metrics.js';
import { startMetricsServerOrWarn } from '../observability/metrics-server.js';
import { tracingFromConfig } from '../observability/tracing.js';
import { kafkaSecurityFromConfig, temporalTlsFromConfig } from '../tls/transport-security.js';
import { ensureConfiguredTopics, runEntryPoint } from '../runtime/entry-point.js';
import type { EntryPointContext } from '../runtime/entry-point.js';
import { connectTemporal } from '../temporal/connect.js';
import { NotificationClient } from '../temporal/notification-client.js';
import { IngestConsumer } from './ingest-consumer.js';
import { ingestOptionsFromConfig } from './workflow-input.js';

/** Ingest entry point: `npm run ingest`. Run several for more throughput (up to the partition count). */
async function start({ config, logger, keyring }: EntryPointContext): Promise<() => Promise<void>> {
  const kafkaSecurity = kafkaSecurityFromConfig(config);
  const temporalTls = temporalTlsFromConfig(config);
  const tracing = tracingFromConfig(config, 'ingest');
  const registry = createMetricsRegistry('ingest');
  const metrics = createIngestMetrics(registry);
  const { kafkaBrokers, temporalAddress } = resolveEndpoints(config);
  const kafka = createKafka({
    brokers: kafkaBrokers,
    clientId: `${config.KAFKA_CLIENT_ID}-ingest`,
    logger,
    security: kafkaSecurity,
  });
  const admin = await ensureConfiguredTopics(kafka, config, logger);

  // With eager start, workflows are started through the NativeConnection of a workflow worker hosted here (loaded
  // only then: the worker SDK is heavy).
  const eager = config.INGEST_EAGER_START
    ? await (
        await import('../workers/eager-start.js')
      ).startEagerStartWorker({ config, logger, keyring, address: temporalAddress, tls: temporalTls })
    : undefined;
  const { client, connection } =
    eager !== undefined
      ? { client: eager.client, connection: undefined }
      : await connectTemporal({
          address: temporalAddress,
          namespace: config.TEMPORAL_NAMESPACE,
          dataConverter: clientDataConverter(keyring),
          tls: temporalTls,
        });
  const starter = new NotificationClient(client, {
    taskQueuePrefix: config.TEMPORAL_TASK_QUEUE_PREFIX,
    eagerStart: eager !== undefined,
  });
  const consumer = new IngestConsumer(
    ingestOptionsFromConfig(config, { kafka, starter, logger, payloadKeyring: keyring, onEvent: metrics.onEvent }),
  );
  await consumer.start();
  logger.info(
    { topic: config.KAFKA_TOPIC, group: config.KAFKA_CONSUMER_GROUP, eagerStart: eager !== undefined },
    'ingest consuming',
  );
  // The admin client stays connected for the lag poller.
  const lag = startLagPoller({
    admin,
    topic: config.KAFKA_TOPIC,
    groupId: config.KAFKA_CONSUMER_GROUP,
    gauge: metrics.lag,
    intervalMs: config.INGEST_LAG_POLL_MS,
    logger,
  });
  const metricsServer =
    config.INGEST_METRICS_PORT !== 0
      ? await startMetricsServerOrWarn(
          { host: config.METRICS_HOST, port: config.INGEST_METRICS_PORT, registry },
          logger,
          'INGEST_METRICS_PORT',
        )
      : undefined;
  return async () => {
    await consumer.stop();
    await lag.stop();
    await admin.disconnect();
    await metricsServer?.close();
    // After the consumer: no start can come any more, and the workflow tasks it runs here finish first.
    await eager?.stop();
    await connection?.close();
    await tracing.shutdown();
  };
}

runEntryPoint('ingest', start);
