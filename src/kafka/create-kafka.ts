import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSecurity } from '../tls/transport-security.js';

/** Options for a kafkajs client: brokers and a logger that kafkajs' chatter is routed to. */
export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Connection timeout per broker (ms). */
  connectionTimeout?: number;
  /** kafkajs' own retry budget for metadata/connection errors. */
  retry?: { retries: number; initialRetryTime?: number; maxRetryTime?: number };
  /** TLS and SASL towards the brokers (from `kafkaSecurityFromConfig`); plaintext when absent. */
  security?: KafkaSecurity;
}

/** Builds a kafkajs client whose log lines go to pino (kafkajs' info chatter is demoted to debug). */
export function createKafka(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...(options.security?.ssl !== undefined ? { ssl: options.security.ssl } : {}),
    ...(options.security?.sasl !== undefined ? { sasl: options.security.sasl } : {}),
    connectionTimeout: options.connectionTimeout ?? 3_000,
    requestTimeout: 30_000,
    retry: options.retry ?? { retries: 5, initialRetryTime: 100, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...extra } = entry;
        if (level === logLevel.ERROR) log.error(extra, message);
        else if (level === logLevel.WARN) log.warn(extra, message);
        else log.debug(extra, message);
      },
  });
}
