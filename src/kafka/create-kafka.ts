import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSecurity } from '../tls/transport-security.js';
import { applyKafkajsRequestQueueFix } from './kafkajs-request-queue-fix.js';

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

/**
 * Broker answers that are expected while a fresh broker or consumer group comes up (the group coordinator loads
 * `__consumer_offsets`, a new topic elects its leaders): kafkajs retries them by itself and they clear in seconds.
 */
export const KAFKA_STARTUP_TRANSIENTS: readonly string[] = [
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
];

/** How long after a client is created the start-up transients above are logged at debug instead of error/warn. */
export const KAFKA_STARTUP_WINDOW_MS = 60_000;

/** A kafkajs log entry as handed to a `logCreator`'s log function. */
export interface KafkaLogEntry {
  namespace: string;
  level: logLevel;
  label: string;
  log: { message: string; [key: string]: unknown };
}

/**
 * The function a kafkajs `logCreator` returns, routing to pino: errors and warnings stay loud, kafkajs' info chatter
 * goes to debug, and so do two kinds of expected noise: the start-up transients of {@link KAFKA_STARTUP_TRANSIENTS}
 * during the first `startupWindowMs` (after that they are real trouble again), and the warning that the idempotent
 * producer's retries are limited (on purpose: the gateway bounds each write by KAFKA_PRODUCE_TIMEOUT_MS and answers
 * 503; ids make resubmissions safe).
 */
export function kafkaLogHandler(
  logger: Logger,
  options: { startupWindowMs?: number; now?: () => number } = {},
): (entry: KafkaLogEntry) => void {
  const now = options.now ?? Date.now;
  const startupEnds = now() + (options.startupWindowMs ?? KAFKA_STARTUP_WINDOW_MS);
  const isExpected = (message: string, extra: Record<string, unknown>): boolean => {
    if (message.startsWith('Limiting retries for the idempotent producer')) return true;
    if (now() >= startupEnds) return false;
    const error = typeof extra.error === 'string' ? extra.error : '';
    return KAFKA_STARTUP_TRANSIENTS.some((t) => message.includes(t) || error === t);
  };
  return ({ level, log: entry }) => {
    const { message, ...extra } = entry;
    if ((level === logLevel.ERROR || level === logLevel.WARN) && isExpected(message, extra))
      logger.debug({ ...extra, expectedAtStartup: true }, message);
    else if (level === logLevel.ERROR) logger.error(extra, message);
    else if (level === logLevel.WARN) logger.warn(extra, message);
    else logger.debug(extra, message);
  };
}

/**
 * Builds a kafkajs client whose log lines go to pino (see {@link kafkaLogHandler} for the levels), with kafkajs'
 * idle request-queue loop fixed ({@link applyKafkajsRequestQueueFix}).
 */
export function createKafka(options: KafkaClientOptions): Kafka {
  applyKafkajsRequestQueueFix();
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
    logCreator: () => kafkaLogHandler(log),
  });
}
