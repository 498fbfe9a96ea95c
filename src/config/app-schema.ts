import { z } from 'zod';
import { parseApiKeys } from '../auth/api-keys.js';
import { parsePayloadKeys } from '../crypto/keyring.js';
import { csv, flag, int } from './fields.js';

/**
 * The application's own settings: HTTP, auth, payload keys, Kafka and Temporal clients, ingest, workers,
 * observability, transport security. Everything a deployed gateway, ingest or worker reads (channel settings are in
 * `channel-schema.ts`, the embedded development infrastructure's in `dev-infra-schema.ts`).
 */
export const appSchema = z.object({
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
  AUTH_DISABLED: flag(false),
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
  PAYLOAD_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"')
    .optional(),

  KAFKA_BROKERS: csv.optional(),
  KAFKA_CLIENT_ID: z.string().default('notify'),
  KAFKA_TOPIC: z.string().min(1).default('notify.notifications'),
  KAFKA_DLQ_TOPIC: z.string().min(1).default('notify.notifications.dlq'),
  KAFKA_PARTITIONS: int(6, 1, 10_000),
  /** Replicas of the topics notify creates; unset: 3 on a cluster of ≥ 3 brokers, else the broker count (src/kafka/topics.ts). */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(16).optional(),
  KAFKA_TOPIC_RETENTION_MS: int(7 * 24 * 3600 * 1000, 60_000),
  KAFKA_CONSUMER_GROUP: z.string().min(1).default('notify-ingest'),
  KAFKA_PRODUCE_TIMEOUT_MS: int(5_000, 100),
  KAFKA_SESSION_TIMEOUT_MS: int(30_000, 6_000),
  /** Gateway micro-batching: how long a record may wait for others before the producer sends them together. */
  KAFKA_LINGER_MS: int(5, 0, 1_000),
  KAFKA_MAX_BATCH_RECORDS: int(2_000, 1, 100_000),
  /**
   * Kafka client library of the gateway's producer (src/kafka/README.md): `platformatic` (default,
   * `@platformatic/kafka` 1.20.0: less CPU per record in the gateway and in Kafka, measured in bench/README.md) or
   * `kafkajs`; both give the same guarantees. Ingest and the DLQ producer always use kafkajs. The KAFKA_SSL_* and
   * KAFKA_SASL_* settings apply to both.
   */
  KAFKA_PRODUCER_CLIENT: z
    .enum(['kafkajs', 'platformatic'], { error: 'must be kafkajs or platformatic' })
    .default('platformatic'),

  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  /**
   * PostgreSQL for what notify remembers beyond one workflow (postgres://user:password@host:port/db). When unset,
   * the embedded development server (`npm start`, `npm run infra`) is used.
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Connections per process in the PostgreSQL pool (gateway and each worker process). */
  DATABASE_POOL_MAX: int(10, 1, 1_000),
  /** Notification categories recipients are opted out of until they opt in (operator default), comma-separated. */
  PREFERENCE_OPT_IN_CATEGORIES: csv.default([]),
  /** Categories that bypass quiet hours (sent at once, e.g. security alerts), comma-separated. */
  URGENT_CATEGORIES: csv.default(['urgent', 'security']),
  /**
   * Templates (src/templates): the folder with one sub-folder per template (`welcome/`, `welcome.de/`), relative to
   * the working directory; read and compiled once at start by the gateway and the channel workers.
   */
  TEMPLATES_DIR: z.string().min(1).default('templates'),
  /** Locale of a template's base folder: recipients without a locale, or without a matching variant, get it. */
  TEMPLATES_DEFAULT_LOCALE: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a locale like en or en-GB')
    .default('en'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('notify'),
  TEMPORAL_TASK_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/)
    .default('notify'),
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  TEMPORAL_START_TIMEOUT_MS: int(10_000, 100),
  /**
   * Retention of closed workflows in the namespace. It bounds how long a finished notification id stays deduplicated
   * (REJECT_DUPLICATE), so it must exceed any Kafka redelivery window (KAFKA_TOPIC_RETENTION_MS). Applied to the
   * embedded dev server; checked (warning) on an external one.
   */
  TEMPORAL_RETENTION_HOURS: int(8 * 24, 1),

  INGEST_CONCURRENCY: int(64, 1, 10_000),
  /**
   * Eager workflow start: ingest also runs a workflow worker on the notify workflow task queue and starts workflows
   * with `requestEagerStart`, so the server hands the first workflow task straight back in the start response instead
   * of dispatching it through a task queue poll (less Temporal work per notification, lower latency). The server must
   * allow it (`system.enableEagerWorkflowStart`; the embedded dev server does); otherwise starts are simply not eager.
   * Off by default: it makes ingest a workflow worker too (the bundle, the SDK core and workflow memory in ingest).
   */
  INGEST_EAGER_START: flag(false),
  INGEST_MAX_RECORD_BYTES: int(1024 * 1024, 1024),
  INGEST_BACKOFF_MAX_MS: int(30_000, 100),

  WORKFLOW_WORKER_CONCURRENCY: int(100, 1),
  WORKER_SHUTDOWN_GRACE_MS: int(30_000, 0),
  WORKER_MAX_CACHED_WORKFLOWS: int(5_000, 0),
  /** Channels served by `npm run worker` when no `--channels` flag is given (all when unset). */
  WORKER_CHANNELS: csv.optional(),
  /**
   * Channels this deployment does not offer (comma-separated): the gateway answers 400 for deliveries on them and no
   * worker serves them, so production need not configure them (their development defaults are not refused).
   */
  DISABLED_CHANNELS: csv.optional(),
  /** How long a notification whose deliveries failed waits for a `retry` signal (default 7 days). */
  NOTIFY_AWAIT_RETRY_MS: int(7 * 24 * 3600 * 1000, 0),
  /**
   * Delivery events to the caller (outbound webhooks, src/events): when on, notifications started from now on emit
   * events, and every process running workflows also serves the events task queue (`<prefix>-events`).
   */
  WEBHOOK_EVENTS_ENABLED: flag(true),
  /**
   * How long a gateway uses its answer to "has this client an enabled webhook endpoint?" before asking the database
   * again. A notification accepted for a client without one runs without delivery events (8 fewer history events);
   * an endpoint created through another gateway replica gets events of notifications accepted from at most this long
   * after its creation (the replica that created it knows at once).
   */
  WEBHOOK_EVENTS_PRESENCE_TTL_MS: int(5_000, 0, 3600_000),
  /**
   * Retry schedule of one event to one endpoint.
   * Attempt n+1 starts min(INITIAL × BACKOFF^(n-1), MAX_INTERVAL) after attempt n; no attempt starts later than
   * TOTAL_MS after the first, at most MAX_ATTEMPTS run. Defaults: 0, 5 s, 30 s, 2.5 min, 13 min, 65 min, 5.4 h, 15.4 h
   * (8 attempts within 24 h). Fixed in each delivery's workflow input when the event is emitted.
   */
  WEBHOOK_EVENTS_RETRY_INITIAL_MS: int(5_000, 100),
  WEBHOOK_EVENTS_RETRY_BACKOFF: z.coerce.number().min(1).max(100).default(5),
  WEBHOOK_EVENTS_RETRY_MAX_INTERVAL_MS: int(10 * 3600 * 1000, 100),
  WEBHOOK_EVENTS_RETRY_MAX_ATTEMPTS: int(20, 1, 1_000),
  WEBHOOK_EVENTS_RETRY_TOTAL_MS: int(24 * 3600 * 1000, 1_000, 30 * 24 * 3600 * 1000),
  /** Time limit of one event POST. */
  WEBHOOK_EVENTS_TIMEOUT_MS: int(10_000, 100, 120_000),
  /** After a secret rotation, how long deliveries stay signed with the previous secret too (default 24 h). */
  WEBHOOK_EVENTS_SECRET_OVERLAP_MS: int(24 * 3600 * 1000, 0, 30 * 24 * 3600 * 1000),
  /** Concurrent event activities (emission + delivery attempts) per worker. */
  WEBHOOK_EVENTS_CONCURRENCY: int(50, 1, 10_000),

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
