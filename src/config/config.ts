import { z } from 'zod';
import { parseApiKeys } from '../auth/api-keys.js';
import { channelRegistry } from '../channels/registry.js';
import { parsePayloadKeys } from '../crypto/keyring.js';
import type { ChannelRetryPolicy } from '../shared/notification.js';

/**
 * The one place that reads the environment. Every entry point calls `loadConfig()` once at start-up and passes
 * the parsed, typed result down; no other module touches `process.env`.
 *
 * Variable names are documented in the README ("Configuration"). Invalid values fail start-up with a message
 * naming each variable at fault.
 */

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const num = (def: number, min = 0) => z.coerce.number().min(min).default(def);
/** `true/false/1/0/yes/no/on/off` (case-insensitive); anything else is an error naming the accepted words. */
const flag = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'TRUE', 'FALSE', 'True', 'False'], { error: 'must be true or false' })
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v.toLowerCase()))
    .default(def);
const csv = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));

const baseSchema = z.object({
  NOTIFY_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder for caches (Temporal CLI, Kafka jars) and local data; git-ignored. */
  NOTIFY_HOME: z.string().min(1).optional(),
  /** Where workflow workers keep built workflow bundles (default `<NOTIFY_HOME>/workflow-bundles`; the image sets its own). */
  WORKFLOW_BUNDLE_DIR: z.string().min(1).optional(),

  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: int(3000, 0, 65535),
  HTTP_BODY_LIMIT_BYTES: int(256 * 1024, 1024),
  HTTP_REQUEST_TIMEOUT_MS: int(30_000, 100),
  BATCH_MAX_ITEMS: int(100, 1, 10_000),
  /** Public base URL used in `links` of API responses. */
  PUBLIC_BASE_URL: z.url().optional(),

  /**
   * API keys (src/auth): comma-separated `name:scope1|scope2:sha256:<hex>` entries; the name is the client id that owns
   * what the key creates. Only hashes are configured. Create entries with `npm run keys -- new <name> --scopes send,read`.
   */
  API_KEYS: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseApiKeys(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  /** Turns authentication off (every caller is `anonymous` with every scope); logged at WARN on every start. */
  AUTH_DISABLED: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').default(false),
  /**
   * Requests per RATE_LIMIT_WINDOW_MS per client id; 0 disables the limiter. The caller of notify is the operator's
   * own backend, which legitimately sends bursts (a campaign, a batch job, a load test): the default, 300,000 per
   * minute (5,000/s), is above what one gateway process accepts on a small box, so the limiter only stops a runaway
   * client far beyond that, never a normal burst. Give each client a tighter budget where several share a gateway.
   */
  RATE_LIMIT_MAX: int(300_000, 0),
  /** Requests per window per IP without a valid API key (capped by RATE_LIMIT_MAX): keeps key guessing throttled. */
  RATE_LIMIT_UNAUTHENTICATED_MAX: int(600, 1),
  RATE_LIMIT_WINDOW_MS: int(60_000, 1_000),
  /**
   * AES-256-GCM keys protecting personal data in Temporal payloads and Kafka records: `kid:<base64 32 bytes>`,
   * comma-separated. PAYLOAD_KEY_ID names the key that encrypts new data (optional with a single key). Without
   * PAYLOAD_KEYS, development uses a key generated into .notify/dev-payload-key; production refuses to start.
   */
  PAYLOAD_KEYS: z
    .string()
    .superRefine((value, ctx) => {
      try {
        parsePayloadKeys(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  PAYLOAD_KEY_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"').optional(),

  KAFKA_BROKERS: csv.optional(),
  KAFKA_CLIENT_ID: z.string().default('notify'),
  KAFKA_TOPIC: z.string().min(1).default('notify.notifications'),
  KAFKA_DLQ_TOPIC: z.string().min(1).default('notify.notifications.dlq'),
  KAFKA_PARTITIONS: int(6, 1, 10_000),
  KAFKA_REPLICATION_FACTOR: int(1, 1, 16),
  KAFKA_TOPIC_RETENTION_MS: int(7 * 24 * 3600 * 1000, 60_000),
  KAFKA_CONSUMER_GROUP: z.string().min(1).default('notify-ingest'),
  KAFKA_PRODUCE_TIMEOUT_MS: int(5_000, 100),
  KAFKA_SESSION_TIMEOUT_MS: int(30_000, 6_000),
  /** Gateway micro-batching: how long a record may wait for others before the producer sends them together. */
  KAFKA_LINGER_MS: int(5, 0, 1_000),
  KAFKA_MAX_BATCH_RECORDS: int(2_000, 1, 100_000),

  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('notify'),
  TEMPORAL_TASK_QUEUE_PREFIX: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).default('notify'),
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  TEMPORAL_START_TIMEOUT_MS: int(10_000, 100),
  /**
   * Retention of closed workflows in the namespace. It bounds how long a finished notification id stays deduplicated
   * (REJECT_DUPLICATE), so it must exceed any Kafka redelivery window (KAFKA_TOPIC_RETENTION_MS). Applied to the
   * embedded dev server; checked (warning) on an external one.
   */
  TEMPORAL_RETENTION_HOURS: int(8 * 24, 1),

  INGEST_CONCURRENCY: int(64, 1, 10_000),
  INGEST_MAX_RECORD_BYTES: int(1024 * 1024, 1024),
  INGEST_BACKOFF_MAX_MS: int(30_000, 100),

  WORKFLOW_WORKER_CONCURRENCY: int(100, 1),
  WORKER_SHUTDOWN_GRACE_MS: int(30_000, 0),
  WORKER_MAX_CACHED_WORKFLOWS: int(5_000, 0),
  /** Channels served by `npm run worker` when no `--channels` flag is given (all when unset). */
  WORKER_CHANNELS: csv.optional(),
  /** How long a notification whose deliveries failed waits for a `retry` signal (default 7 days). */
  NOTIFY_AWAIT_RETRY_MS: int(7 * 24 * 3600 * 1000, 0),

  /** Embedded infrastructure (`npm run infra`, `npm start`, the test setup); ignored when the *_ADDRESS/BROKERS point elsewhere. */
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_PORT: int(7233, 1, 65535),
  TEMPORAL_UI_PORT: int(8233, 1, 65535),
  TEMPORAL_SQLITE_PRAGMAS: csv.default(['journal_mode=WAL', 'synchronous=NORMAL']),
  KAFKA_PORT: int(9092, 1, 65535),
  KAFKA_CONTROLLER_PORT: int(9093, 1, 65535),
  KAFKA_HEAP: z.string().regex(/^\d+[mMgG]$/).default('512m'),
  KAFKA_VERSION: z.string().default('4.1.1'),

  SINKS_HOST: z.string().default('127.0.0.1'),
  SINKS_HTTP_PORT: int(4010, 0, 65535),
  SINKS_SMTP_PORT: int(2525, 0, 65535),

  /** Observability (src/observability): Prometheus `/metrics` listeners (0 = off) and OpenTelemetry export. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  INGEST_METRICS_PORT: int(9464, 0, 65535),
  WORKER_METRICS_PORT: int(9465, 0, 65535),
  /** The Temporal SDK's own Prometheus endpoint (worker processes); its series are also served on WORKER_METRICS_PORT. */
  TEMPORAL_SDK_METRICS_PORT: int(9466, 0, 65535),
  /** How often ingest polls Kafka for consumer lag per partition. */
  INGEST_LAG_POLL_MS: int(5_000, 100),
  /** OTLP/HTTP endpoint of a trace collector (e.g. http://127.0.0.1:4318); tracing is off when unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Extra OTLP headers, `k1=v1,k2=v2` (e.g. an API key of a hosted collector). */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  /** Prefix of the `service.name` resource attribute; each process appends its role (`-gateway`, `-ingest`, `-worker`). */
  OTEL_SERVICE_NAME: z.string().min(1).default('notify'),

  /** Transport security (src/tls): Kafka SSL/SASL, Temporal mTLS. Files are checked at start-up. */
  KAFKA_SSL: flag(false),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: flag(true),
  KAFKA_SASL_MECHANISM: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'], { error: 'must be one of plain, scram-sha-256, scram-sha-512' })
    .optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  TEMPORAL_TLS: flag(false),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
});

const channelCommonSchema = z.object({
  CONCURRENCY: int(200, 1),
  /** Server-side limit for this channel's task queue (`maxTaskQueueActivitiesPerSecond`); unset means unlimited. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().optional(),
  RETRY_INITIAL_INTERVAL_MS: int(1_000, 1),
  RETRY_BACKOFF: num(2, 1),
  RETRY_MAX_INTERVAL_MS: int(60_000, 1),
  RETRY_MAX_ATTEMPTS: int(10, 1),
  ATTEMPT_TIMEOUT_MS: int(30_000, 100),
  TOTAL_TIMEOUT_MS: int(3_600_000, 100),
});

/** Settings shared by every channel: worker pool size, provider rate limit and retry policy. */
export interface ChannelRuntimeConfig {
  concurrency: number;
  rateLimitPerSecond?: number;
  retry: ChannelRetryPolicy;
  /** The channel's own settings, parsed by its `configSchema`. */
  settings: Record<string, unknown>;
}

export type BaseConfig = z.infer<typeof baseSchema>;

/** The application's configuration: base settings plus one entry per registered channel. */
export interface AppConfig extends BaseConfig {
  channels: Record<string, ChannelRuntimeConfig>;
}

/** Thrown when the environment holds invalid settings; the message names every variable at fault. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `smtpHost` → `SMTP_HOST`. */
export function toEnvKey(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function pick(env: Record<string, string | undefined>, prefix: string, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = env[`${prefix}${key}`];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function formatIssues(error: z.ZodError, nameOf: (path: PropertyKey[]) => string): string[] {
  return error.issues.map((issue) => `${nameOf(issue.path)}: ${issue.message}`);
}

/**
 * Parses configuration from an environment map (default: `process.env`).
 * Empty strings count as unset, so `FOO=` in a compose file falls back to the default.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const issues: string[] = [];
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const base = baseSchema.safeParse(cleaned);
  if (!base.success) issues.push(...formatIssues(base.error, (p) => String(p[0])));

  const channels: Record<string, ChannelRuntimeConfig> = {};
  for (const channel of channelRegistry) {
    const prefix = `${channel.name.toUpperCase()}_`;
    const common = channelCommonSchema.safeParse(pick(env, prefix, Object.keys(channelCommonSchema.shape)));
    const shapeKeys = Object.keys(channel.configSchema.shape);
    const raw: Record<string, string> = {};
    for (const key of shapeKeys) {
      const value = env[`${prefix}${toEnvKey(key)}`];
      if (value !== undefined && value !== '') raw[key] = value;
    }
    const settings = channel.configSchema.safeParse(raw);
    if (!common.success) issues.push(...formatIssues(common.error, (p) => `${prefix}${String(p[0])}`));
    if (!settings.success) issues.push(...formatIssues(settings.error, (p) => `${prefix}${toEnvKey(String(p[0]))}`));
    if (common.success && settings.success) {
      const c = common.data;
      channels[channel.name] = {
        concurrency: c.CONCURRENCY,
        rateLimitPerSecond: c.RATE_LIMIT_PER_SECOND,
        retry: {
          initialIntervalMs: c.RETRY_INITIAL_INTERVAL_MS,
          backoffCoefficient: c.RETRY_BACKOFF,
          maximumIntervalMs: c.RETRY_MAX_INTERVAL_MS,
          maximumAttempts: c.RETRY_MAX_ATTEMPTS,
          attemptTimeoutMs: c.ATTEMPT_TIMEOUT_MS,
          totalTimeoutMs: c.TOTAL_TIMEOUT_MS,
        },
        settings: settings.data,
      };
    }
  }
  if (base.success) issues.push(...payloadKeyIssues(base.data));
  if (issues.length > 0 || !base.success) throw new ConfigError(issues);
  return { ...base.data, channels };
}

/** PAYLOAD_KEY_ID must name one of PAYLOAD_KEYS, and is required when there are several keys. */
function payloadKeyIssues(base: BaseConfig): string[] {
  if (base.PAYLOAD_KEYS === undefined) return [];
  const ids = [...parsePayloadKeys(base.PAYLOAD_KEYS).keys()];
  if (base.PAYLOAD_KEY_ID === undefined) return ids.length > 1 ? [`PAYLOAD_KEY_ID: several PAYLOAD_KEYS are configured (${ids.join(', ')}); set PAYLOAD_KEY_ID to the one that encrypts new data`] : [];
  return ids.includes(base.PAYLOAD_KEY_ID) ? [] : [`PAYLOAD_KEY_ID: ${base.PAYLOAD_KEY_ID} is not among PAYLOAD_KEYS (${ids.join(', ')})`];
}

/** Names of every environment variable the application reads (used by the docker-compose consistency test). */
export function knownEnvVars(): string[] {
  const names = new Set<string>(Object.keys(baseSchema.shape));
  for (const channel of channelRegistry) {
    const prefix = `${channel.name.toUpperCase()}_`;
    for (const key of Object.keys(channelCommonSchema.shape)) names.add(`${prefix}${key}`);
    for (const key of Object.keys(channel.configSchema.shape)) names.add(`${prefix}${toEnvKey(key)}`);
  }
  return [...names].sort();
}

/** Kafka brokers and Temporal address to use: the configured ones, else the embedded defaults on 127.0.0.1. */
export function resolveEndpoints(config: AppConfig): { kafkaBrokers: string[]; temporalAddress: string } {
  return {
    kafkaBrokers: config.KAFKA_BROKERS ?? [`127.0.0.1:${config.KAFKA_PORT}`],
    temporalAddress: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
  };
}

/**
 * Environment for a child process of `npm start`: `defaults` (e.g. channels pointed at the dev sinks), overridden by
 * this process's environment, overridden by `overrides`. Lives here because
 * this is the only module that touches `process.env`.
 */
export function childEnvironment(overrides: Record<string, string>, defaults: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  return { ...defaults, ...inherited, ...overrides };
}
