import { clientDataConverter, devPayloadKeyFile, resolvePayloadKeyring } from '../../src/crypto/index.js';
import { Client, Connection } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { formatApiKeyEntry, generateApiKey, SCOPES } from '../../src/auth/api-keys.js';
import { loadConfig } from '../../src/config/config.js';
import type { AppConfig } from '../../src/config/config.js';
import { createKafka } from '../../src/kafka/create-kafka.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { NotificationClient } from '../../src/temporal/notification-client.js';
import type { PrivateInfra } from './private-infra.js';

/** Sizes and durations of one benchmark run (`--quick` or default). */
export interface BenchPlan {
  quick: boolean;
  /** Rounds per figure (the figure is their median). */
  rounds: number;
  /** Rounds per end-to-end load level (the most expensive figure). */
  e2eRounds: number;
  /** Length of one wrk round (s) and its connections (closed loop: requests in flight). */
  gatewayWrkSec: number;
  /** Length of one bare-kafkajs-producer round (ms). */
  gatewayStepMs: number;
  gatewayConnections: number;
  /** Gateway micro-batching settings to compare (first = project default). */
  /** `serviceFlags: false` runs that variant without the gateway's shipped Node flags (GATEWAY_NODE_FLAGS). */
  gatewayVariants: Array<{ name: string; env: Record<string, string>; serviceFlags?: boolean }>;
  /** Records per ingest round. */
  ingestRecords: number;
  ingestVariants: Array<{ name: string; env: Record<string, string> }>;
  bareStartConcurrency: number;
  /** Temporal SQLite pragma sets to compare (last = the one the end-to-end ladder runs on). */
  pragmaSets: Array<{ name: string; pragmas: string[] }>;
  /** Worker settings to compare for the Temporal ceiling (first = project default). */
  workerVariants: Array<{ name: string; env: Record<string, string> }>;
  /** Length of one Temporal-ceiling round and its closed-loop lanes (workflows in flight). */
  ceilingMs: number;
  ceilingLanes: number;
  /** Offered end-to-end loads as fractions of the measured Temporal ceiling. */
  e2eFractions: number[];
  e2eStepMs: number;
  /** Run the workflow and SMS workers under `node --cpu-prof` (`--profile`; profiles in the run's log folder). */
  profileWorkers?: boolean;
}

/** Everything the phases share. */
export interface BenchContext {
  plan: BenchPlan;
  runId: string;
  logDir: string;
  infra: PrivateInfra;
  logger: Logger;
  /** `authorization: Bearer <key>` of the run's API key (every HTTP request of the bench is authenticated). */
  authHeaders: Record<string, string>;
  log(message: string): void;
  /** Environment for a child component: the bench's own plus the private endpoints plus `overrides`. */
  env(overrides: Record<string, string>): NodeJS.ProcessEnv;
  /** Parsed configuration for the same overrides (what a child would see). */
  config(overrides: Record<string, string>): AppConfig;
  kafka: Kafka;
  temporal: Client;
  close(): Promise<void>;
}

/** Builds the shared context once the private infrastructure is up. */
export async function createContext(
  plan: BenchPlan,
  runId: string,
  logDir: string,
  infra: PrivateInfra,
  log: (m: string) => void,
): Promise<BenchContext> {
  const logger = pino({ level: 'silent' });
  // A real API key (as in production): the gateway verifies a bearer token on every request.
  const apiKey = generateApiKey();
  const base: Record<string, string> = {
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    TEMPORAL_ADDRESS: infra.temporalAddress,
    DATABASE_URL: infra.databaseUrl,
    TEMPORAL_NAMESPACE: infra.namespace,
    NOTIFY_ENV: 'development',
    LOG_LEVEL: 'info',
    KAFKA_REPLICATION_FACTOR: '1',
    NOTIFY_AWAIT_RETRY_MS: '60000',
    // The benchmark drives the gateway from one client at thousands of requests/s: authenticated, but no rate limit;
    // every component runs as its own process, so fixed metrics ports would collide.
    AUTH_DISABLED: 'false',
    API_KEYS: formatApiKeyEntry('bench', SCOPES, apiKey),
    RATE_LIMIT_MAX: '0',
    INGEST_METRICS_PORT: '0',
    WORKER_METRICS_PORT: '0',
    TEMPORAL_SDK_METRICS_PORT: '0',
  };
  const env = (overrides: Record<string, string>): NodeJS.ProcessEnv => ({ ...process.env, ...base, ...overrides });
  const kafka = createKafka({ brokers: infra.kafkaBrokers, clientId: 'bench', logger });
  let connection = await Connection.connect({ address: infra.temporalAddress });
  // Same payload key as the worker processes (the dev key file), so results and queries decode.
  const baseConfig = loadConfig(env({}));
  const dataConverter = clientDataConverter(
    resolvePayloadKeyring(baseConfig, devPayloadKeyFile(baseConfig.NOTIFY_HOME)).keyring,
  );
  const ctx: BenchContext = {
    plan,
    runId,
    logDir,
    infra,
    logger,
    authHeaders: { Authorization: `Bearer ${apiKey}` },
    log,
    env,
    config: (overrides) => loadConfig(env(overrides)),
    kafka,
    temporal: new Client({ connection, namespace: infra.namespace, dataConverter }),
    close: () => connection.close(),
  };
  // After a Temporal restart the old connection is stale: callers reconnect through this hook.
  const restart = infra.restartTemporal.bind(infra);
  infra.restartTemporal = async (pragmas) => {
    await connection.close().catch(() => undefined);
    await restart(pragmas);
    connection = await Connection.connect({ address: infra.temporalAddress });
    ctx.temporal = new Client({ connection, namespace: infra.namespace, dataConverter });
  };
  return ctx;
}

/** Creates a topic (and its DLQ) with `partitions` partitions. */
export async function createTopic(ctx: BenchContext, topic: string, partitions: number): Promise<void> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      { topic, dlqTopic: `${topic}.dlq`, partitions, replicationFactor: 1, retentionMs: 3_600_000 },
      ctx.logger,
    );
  } finally {
    await admin.disconnect();
  }
}

/** A NotificationClient on the bench's own Temporal connection (bare baselines start workflows with it). */
export function notificationClient(ctx: BenchContext, taskQueuePrefix: string): NotificationClient {
  return new NotificationClient(ctx.temporal, { taskQueuePrefix });
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
export async function mapConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
