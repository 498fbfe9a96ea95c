import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { loadConfig } from '../config/config.js';
import type { AppConfig } from '../config/config.js';
import { devPayloadKeyFile, resolvePayloadKeyring } from '../crypto/dev-key.js';
import type { PayloadKeyring } from '../crypto/keyring.js';
import { ensureTopics } from '../kafka/topics.js';
import { createLogger } from '../logging/create-logger.js';
import { onShutdown } from './shutdown.js';

/** What every long-running entry point starts from: the parsed config, its logger and the payload keyring. */
export interface EntryPointContext {
  config: AppConfig;
  logger: Logger;
  keyring: PayloadKeyring;
  /** Where the keyring came from: `PAYLOAD_KEYS` or the development key file. */
  keySource: 'config' | 'dev-file';
}

/**
 * Runs a long-running entry point (gateway, ingest): parses the config once, creates the component's logger and the
 * payload keyring, then `start`; the function `start` returns is called once on SIGTERM/SIGINT to drain and release
 * connections. A failure while starting prints its message (never a stack with secrets) and exits 1.
 */
export function runEntryPoint(
  component: string,
  start: (ctx: EntryPointContext) => Promise<() => Promise<void>>,
): void {
  const run = async () => {
    const config = loadConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, component });
    const { keyring, source } = resolvePayloadKeyring(config, devPayloadKeyFile(config.NOTIFY_HOME));
    const stop = await start({ config, logger, keyring, keySource: source });
    onShutdown(logger, stop);
  };
  run().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

/**
 * Creates (or checks) the ingress and dead-letter topics from the config with a connected admin client, which is
 * returned still connected (ingest keeps it for the lag poller; the gateway disconnects it).
 */
export async function ensureConfiguredTopics(kafka: Kafka, config: AppConfig, logger: Logger): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    {
      topic: config.KAFKA_TOPIC,
      dlqTopic: config.KAFKA_DLQ_TOPIC,
      partitions: config.KAFKA_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      retentionMs: config.KAFKA_TOPIC_RETENTION_MS,
    },
    logger,
  );
  return admin;
}
