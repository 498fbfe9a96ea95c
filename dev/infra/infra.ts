import Long from 'long';
import { Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { BaseConfig } from '../../src/config/config.js';
import type { KafkaServerOptions } from './kafka.js';
import { ensureKafkaJars, kafkaPropertiesFile, startKafka, stopKafka, waitForKafka } from './kafka.js';
import type { InfraPaths } from './paths.js';
import { resolveInfraPaths } from './paths.js';
import type { InfraLog, StopOutcome } from './process.js';
import { InfraError, isProcessAlive, runningPid, waitUntil, withLock } from './process.js';
import type { PostgresServerOptions } from './postgres.js';
import {
  ensureDatabase,
  ensurePostgresBinaries,
  postgresPid,
  postgresReady,
  postgresUrl,
  startPostgres,
  stopPostgres,
} from './postgres.js';
import type { TemporalServerOptions } from './temporal.js';
import { ensureTemporalCli, startTemporal, stopTemporal, temporalAddressFor, waitForTemporal } from './temporal.js';

/** The settings the embedded infrastructure reads (a subset of the app config, so tests can pass just these). */
export type InfraConfig = Pick<
  BaseConfig,
  | 'NOTIFY_HOME'
  | 'KAFKA_BROKERS'
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_RETENTION_HOURS'
  | 'KAFKA_TOPIC_RETENTION_MS'
  | 'TEMPORAL_UI_URL'
  | 'TEMPORAL_CLI_PATH'
  | 'TEMPORAL_PORT'
  | 'TEMPORAL_UI_PORT'
  | 'TEMPORAL_SQLITE_PRAGMAS'
  | 'KAFKA_PORT'
  | 'KAFKA_CONTROLLER_PORT'
  | 'KAFKA_HEAP'
  | 'KAFKA_VERSION'
  | 'DATABASE_URL'
  | 'POSTGRES_PORT'
> &
  /** The gateway's port, for the Web UI's codec endpoint. */
  Partial<Pick<BaseConfig, 'HTTP_PORT'>>;

/** What {@link ensureInfra} hands back: where to connect, and how to undo what it did. */
export interface RunningInfra {
  kafkaBrokers: string[];
  temporalAddress: string;
  /** Base URL of the Temporal Web UI (append `/namespaces/<ns>/workflows/<id>` for a workflow). */
  temporalUiUrl: string;
  /** The UI page listing the namespace's workflows (printed when ready). */
  temporalWorkflowsUrl: string;
  /** The `notify` database: DATABASE_URL when set, else on the embedded PostgreSQL server (created on first use). */
  databaseUrl: string;
  /** Which servers this call started (false: reused a running one, or external). */
  startedByUs: { kafka: boolean; temporal: boolean; postgres: boolean };
  /**
   * Releases this caller's use of the servers. Servers started by an `ensureInfra` call (not by `npm run infra --
   * start`) are stopped when their last user releases them, so a test run never stops Kafka under a concurrent
   * `npm start` that reused it, and vice versa. Without other users this stops exactly what this call started.
   */
  stop(): Promise<void>;
}

/** Options of {@link ensureInfra} and the other commands. */
export interface InfraOptions {
  log?: InfraLog;
  /** Readiness timeout of servers started here: default 60 s (Temporal) / 90 s (Kafka). */
  readyTimeoutMs?: number;
  /** How long an external server (KAFKA_BROKERS / TEMPORAL_ADDRESS) may take to answer: default 15 s. */
  externalTimeoutMs?: number;
  /**
   * `npm run infra -- start`: the servers are meant to outlive this process; no lease is taken, and servers an
   * earlier `ensureInfra` started become permanent (only `npm run infra -- stop` ends them).
   */
  keepRunning?: boolean;
}

type Component = 'kafka' | 'temporal' | 'postgres';

/** Database notify keeps recipients, preferences and suppressions in, on the embedded server. */
export const NOTIFY_DATABASE = 'notify';

/**
 * Who uses the embedded servers: `run/leases/<pid>-<random>` per live {@link ensureInfra} result, and
 * `run/autostop.json` listing the servers that were started by such a call and go away with their last user.
 */
function leaseDir(paths: InfraPaths): string {
  return join(paths.runDir, 'leases');
}

function autostopFile(paths: InfraPaths): string {
  return join(paths.runDir, 'autostop.json');
}

function readAutostop(paths: InfraPaths): Component[] {
  try {
    return JSON.parse(readFileSync(autostopFile(paths), 'utf8')) as Component[];
  } catch {
    return [];
  }
}

function writeAutostop(paths: InfraPaths, components: Component[]): void {
  mkdirSync(paths.runDir, { recursive: true });
  if (components.length === 0) rmSync(autostopFile(paths), { force: true });
  else writeFileSync(autostopFile(paths), `${JSON.stringify([...new Set(components)].sort())}\n`);
}

/** Live leases other than `own` (leases of dead processes are removed on the way). */
function otherLiveLeases(paths: InfraPaths, own: string): string[] {
  const dir = leaseDir(paths);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => {
    if (name === own) return false;
    const pid = Number.parseInt(name.split('-')[0] ?? '', 10);
    if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) return true;
    rmSync(join(dir, name), { force: true });
    return false;
  });
}

const EXTERNAL_TIMEOUT_MS = 15_000;

/** Temporal dev-server options for the configured instance (`.notify/data/temporal.db`, TEMPORAL_* ports). */
export function temporalOptionsFromConfig(
  config: InfraConfig,
  cli: string,
  paths: InfraPaths = resolveInfraPaths(config.NOTIFY_HOME),
): TemporalServerOptions {
  return {
    cli,
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: paths.temporalDb,
    namespace: config.TEMPORAL_NAMESPACE,
    sqlitePragmas: config.TEMPORAL_SQLITE_PRAGMAS,
    logFile: paths.temporalLog,
    pidFile: paths.temporalPid,
    // The Web UI decrypts payloads through the gateway's codec endpoint (needs an admin key; see README).
    uiCodecEndpoint: config.HTTP_PORT !== undefined ? `http://127.0.0.1:${config.HTTP_PORT}/codec` : undefined,
  };
}

/** Embedded PostgreSQL options for the configured instance (`.notify/data/postgres`, POSTGRES_PORT). */
export function postgresOptionsFromConfig(
  config: InfraConfig,
  binDir: string,
  paths: InfraPaths = resolveInfraPaths(config.NOTIFY_HOME),
): PostgresServerOptions {
  return {
    binDir,
    dataDir: paths.postgresData,
    port: config.POSTGRES_PORT,
    passwordFile: paths.postgresPasswordFile,
    pidFile: paths.postgresPid,
    logFile: paths.postgresLog,
  };
}

/** Kafka options for the configured instance (`.notify/data/kafka`, KAFKA_* ports and heap). */
export function kafkaOptionsFromConfig(
  config: InfraConfig,
  paths: InfraPaths = resolveInfraPaths(config.NOTIFY_HOME),
): KafkaServerOptions {
  return {
    port: config.KAFKA_PORT,
    controllerPort: config.KAFKA_CONTROLLER_PORT,
    dataDir: paths.kafkaData,
    libDir: paths.kafkaLib,
    configDir: paths.kafkaConfigDir,
    formatFile: paths.kafkaFormatFile,
    heap: config.KAFKA_HEAP,
    logFile: paths.kafkaLog,
    stdoutLog: paths.kafkaStdoutLog,
    pidFile: paths.kafkaPid,
  };
}

function uiUrl(config: InfraConfig): string {
  return config.TEMPORAL_ADDRESS === undefined
    ? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`
    : config.TEMPORAL_UI_URL.replace(/\/+$/, '');
}

async function ensureKafka(
  config: InfraConfig,
  paths: InfraPaths,
  log: InfraLog,
  options: InfraOptions,
): Promise<{ brokers: string[]; started: boolean }> {
  if (config.KAFKA_BROKERS !== undefined) {
    const brokers = config.KAFKA_BROKERS;
    await waitForKafka(brokers, options.externalTimeoutMs ?? EXTERNAL_TIMEOUT_MS).catch((err: unknown) => {
      throw new InfraError(
        `Kafka at KAFKA_BROKERS=${brokers.join(',')} is not reachable (${String(err)}). Start it, fix KAFKA_BROKERS, or unset KAFKA_BROKERS to let notify run a local Kafka.`,
      );
    });
    log(`using existing Kafka at ${brokers.join(',')} (KAFKA_BROKERS)`);
    return { brokers, started: false };
  }
  const opts = kafkaOptionsFromConfig(config, paths);
  // Skip the install check when our broker is already up (common: `npm test` while `npm start` runs).
  if (runningPid(opts.pidFile, kafkaPropertiesFile(opts.configDir)) === undefined) {
    await ensureKafkaJars({
      kafkaVersion: config.KAFKA_VERSION,
      kafkaDir: paths.kafkaDir,
      libDir: paths.kafkaLib,
      log,
    });
  }
  const result = await startKafka({ ...opts, readyTimeoutMs: options.readyTimeoutMs }, log);
  const brokers = [`127.0.0.1:${config.KAFKA_PORT}`];
  log(
    result.started
      ? `Kafka ready on ${brokers[0]} (pid ${result.pid})`
      : `Kafka already running on ${brokers[0]} (pid ${result.pid})`,
  );
  return { brokers, started: result.started };
}

/**
 * The namespace's retention bounds how long a completed notification id is deduplicated; it must outlive the Kafka
 * redelivery window. Sets it on our own dev server (which creates namespaces with 24 h); only warns on external ones.
 */
async function ensureNamespaceRetention(
  address: string,
  namespace: string,
  hours: number,
  kafkaRetentionMs: number,
  log: InfraLog,
  mayUpdate: boolean,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const described = await connection.workflowService.describeNamespace({ namespace });
    const current = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    const wanted = hours * 3600;
    if (current >= wanted) return;
    if (mayUpdate) {
      await connection.workflowService.updateNamespace({
        namespace,
        config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(wanted) } },
      });
      log(`namespace ${namespace}: retention set to ${hours} h (was ${current / 3600} h)`);
    } else if (current * 1000 < kafkaRetentionMs) {
      log(
        `WARNING: namespace ${namespace} retains closed workflows for ${current / 3600} h, less than the Kafka retention; a record redelivered after that could send again. Raise it: temporal operator namespace update --retention ${hours}h ${namespace}`,
      );
    }
  } finally {
    await connection.close();
  }
}

async function ensureTemporal(
  config: InfraConfig,
  paths: InfraPaths,
  log: InfraLog,
  options: InfraOptions,
): Promise<{ address: string; started: boolean }> {
  if (config.TEMPORAL_ADDRESS !== undefined) {
    const address = config.TEMPORAL_ADDRESS;
    await waitForTemporal(address, config.TEMPORAL_NAMESPACE, options.externalTimeoutMs ?? EXTERNAL_TIMEOUT_MS).catch(
      (err: unknown) => {
        throw new InfraError(
          `Temporal at TEMPORAL_ADDRESS=${address} is not reachable or has no namespace "${config.TEMPORAL_NAMESPACE}" (${String(err)}). ` +
            `Start it, register the namespace (temporal operator namespace create ${config.TEMPORAL_NAMESPACE}), fix TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE, ` +
            'or unset TEMPORAL_ADDRESS to let notify run a local dev server.',
        );
      },
    );
    log(`using existing Temporal at ${address} (TEMPORAL_ADDRESS)`);
    await ensureNamespaceRetention(
      address,
      config.TEMPORAL_NAMESPACE,
      config.TEMPORAL_RETENTION_HOURS,
      config.KAFKA_TOPIC_RETENTION_MS,
      log,
      false,
    );
    return { address, started: false };
  }
  const running = runningPid(paths.temporalPid, paths.temporalDb);
  // A running server needs no CLI lookup; the `cli` field is only used to spawn.
  const cli =
    running === undefined
      ? await ensureTemporalCli({ cliPath: config.TEMPORAL_CLI_PATH, binDir: paths.binDir, log })
      : 'temporal';
  const result = await startTemporal(
    { ...temporalOptionsFromConfig(config, cli, paths), readyTimeoutMs: options.readyTimeoutMs },
    log,
  );
  const address = temporalAddressFor(config.TEMPORAL_PORT);
  await ensureNamespaceRetention(
    address,
    config.TEMPORAL_NAMESPACE,
    config.TEMPORAL_RETENTION_HOURS,
    config.KAFKA_TOPIC_RETENTION_MS,
    log,
    true,
  );
  log(
    result.started
      ? `Temporal ready on ${address} (pid ${result.pid})`
      : `Temporal already running on ${address} (pid ${result.pid})`,
  );
  return { address, started: result.started };
}

async function ensurePostgres(
  config: InfraConfig,
  paths: InfraPaths,
  log: InfraLog,
  options: InfraOptions,
): Promise<{ url: string; started: boolean }> {
  if (config.DATABASE_URL !== undefined) {
    const url = config.DATABASE_URL;
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: options.externalTimeoutMs ?? EXTERNAL_TIMEOUT_MS,
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (err) {
      throw new InfraError(
        `PostgreSQL at DATABASE_URL is not reachable (${err instanceof Error ? err.message : String(err)}). Start it, fix DATABASE_URL, or unset DATABASE_URL to let notify run a local server.`,
      );
    } finally {
      await client.end().catch(() => undefined);
    }
    log('using existing PostgreSQL (DATABASE_URL)');
    return { url, started: false };
  }
  // Always the cached embedded binaries (a cheap check once installed): never a `postgres` found on PATH.
  const binDir = await ensurePostgresBinaries({ dir: paths.postgresDir, log });
  const opts = postgresOptionsFromConfig(config, binDir, paths);
  const running = runningPid(paths.postgresPid, paths.postgresData);
  // A running server that is slow to answer on a loaded machine is waited for, not restarted under its other users.
  if (running !== undefined)
    await waitUntil(
      async () => {
        if (!(await postgresReady(opts))) throw new Error('not ready');
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch(() => undefined);
  const result = await startPostgres(opts, log, options.readyTimeoutMs);
  await ensureDatabase(postgresUrl(opts), NOTIFY_DATABASE);
  log(
    result.started
      ? `PostgreSQL ready on 127.0.0.1:${config.POSTGRES_PORT} (pid ${result.pid})`
      : `PostgreSQL already running on 127.0.0.1:${config.POSTGRES_PORT} (pid ${result.pid})`,
  );
  return { url: postgresUrl(opts, NOTIFY_DATABASE), started: result.started };
}

/**
 * Makes Kafka and Temporal available: reuses servers already running (ours, or external ones named by KAFKA_BROKERS /
 * TEMPORAL_ADDRESS, which are only checked), otherwise installs (first run) and starts local ones under NOTIFY_HOME.
 * Both components are prepared concurrently (go build and Maven download overlap). On failure, whatever this call
 * started is stopped again. `stop()` of the result stops only what this call started.
 */
export async function ensureInfra(config: InfraConfig, options: InfraOptions = {}): Promise<RunningInfra> {
  const log = options.log ?? (() => undefined);
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  const lease = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const [kafka, temporal, postgres] = await withLock(paths.lockDir, log, async () => {
    const results = await Promise.allSettled([
      ensureKafka(config, paths, log, options),
      ensureTemporal(config, paths, log, options),
      ensurePostgres(config, paths, log, options),
    ]);
    const [k, t, p] = results;
    if (k.status === 'fulfilled' && t.status === 'fulfilled' && p.status === 'fulfilled') {
      const started = [
        ...(k.value.started ? ['kafka' as const] : []),
        ...(t.value.started ? ['temporal' as const] : []),
        ...(p.value.started ? ['postgres' as const] : []),
      ];
      if (options.keepRunning === true) {
        writeAutostop(paths, []);
      } else {
        writeAutostop(paths, [...readAutostop(paths), ...started]);
        mkdirSync(leaseDir(paths), { recursive: true });
        writeFileSync(join(leaseDir(paths), lease), `${new Date().toISOString()}\n`);
      }
      return [k.value, t.value, p.value] as const;
    }
    if (k.status === 'fulfilled' && k.value.started) await stopKafka(kafkaOptionsFromConfig(config, paths), log);
    if (t.status === 'fulfilled' && t.value.started)
      await stopTemporal(temporalOptionsFromConfig(config, 'temporal', paths), log);
    if (p.status === 'fulfilled' && p.value.started)
      await stopPostgres(postgresOptionsFromConfig(config, '', paths), log);
    const messages = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : [],
    );
    const firstFailure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    throw new InfraError(messages.join('\n\n'), { cause: firstFailure?.reason });
  });
  const temporalUiUrl = uiUrl(config);
  const temporalWorkflowsUrl = `${temporalUiUrl}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows`;
  log(`Temporal Web UI: ${temporalWorkflowsUrl}`);
  let released = options.keepRunning === true;
  return {
    kafkaBrokers: kafka.brokers,
    temporalAddress: temporal.address,
    temporalUiUrl,
    temporalWorkflowsUrl,
    databaseUrl: postgres.url,
    startedByUs: { kafka: kafka.started, temporal: temporal.started, postgres: postgres.started },
    async stop() {
      if (released) return;
      released = true;
      await withLock(paths.lockDir, log, async () => {
        rmSync(join(leaseDir(paths), lease), { force: true });
        const others = otherLiveLeases(paths, lease);
        if (others.length > 0) {
          log(`leaving Kafka/Temporal/PostgreSQL running: still used by ${others.length} other process(es)`);
          return;
        }
        const autostop = readAutostop(paths);
        if (autostop.includes('kafka') && config.KAFKA_BROKERS === undefined)
          await stopKafka(kafkaOptionsFromConfig(config, paths), log);
        if (autostop.includes('temporal') && config.TEMPORAL_ADDRESS === undefined) {
          await stopTemporal(temporalOptionsFromConfig(config, 'temporal', paths), log);
        }
        if (autostop.includes('postgres') && config.DATABASE_URL === undefined)
          await stopPostgres(postgresOptionsFromConfig(config, '', paths), log);
        writeAutostop(paths, []);
      });
    },
  };
}

/** State of one component, as shown by `npm run infra -- status`. */
export interface ComponentStatus {
  name: 'kafka' | 'temporal' | 'postgres';
  /** `external`: KAFKA_BROKERS / TEMPORAL_ADDRESS / DATABASE_URL point at a server notify does not manage. */
  mode: 'embedded' | 'external';
  /** Embedded only: whether the binary / jars are cached. */
  installed?: boolean;
  /** Embedded only: our process is alive. */
  running: boolean;
  pid?: number;
  address: string;
  /** Answers its readiness probe. */
  ready: boolean;
  error?: string;
}

async function probe(check: () => Promise<void>): Promise<{ ready: boolean; error?: string }> {
  try {
    await check();
    return { ready: true };
  } catch (err) {
    return { ready: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Reports each component: embedded or external, installed, running (pid), address and readiness. Changes nothing. */
export async function infraStatus(config: InfraConfig): Promise<ComponentStatus[]> {
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  const kOpts = kafkaOptionsFromConfig(config, paths);
  const kafkaBrokers = config.KAFKA_BROKERS ?? [`127.0.0.1:${config.KAFKA_PORT}`];
  const kafkaPid = config.KAFKA_BROKERS ? undefined : runningPid(kOpts.pidFile, kafkaPropertiesFile(kOpts.configDir));
  const temporalAddress = config.TEMPORAL_ADDRESS ?? temporalAddressFor(config.TEMPORAL_PORT);
  const temporalPid = config.TEMPORAL_ADDRESS ? undefined : runningPid(paths.temporalPid, paths.temporalDb);
  const pgOpts = postgresOptionsFromConfig(config, '', paths);
  const pgPid = config.DATABASE_URL ? undefined : postgresPid(pgOpts);
  const [k, t, p] = await Promise.all([
    probe(() => waitForKafka(kafkaBrokers, 0)),
    probe(() => waitForTemporal(temporalAddress, config.TEMPORAL_NAMESPACE, 0)),
    probe(async () => {
      if (config.DATABASE_URL !== undefined) {
        const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 2_000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
        } finally {
          await client.end().catch(() => undefined);
        }
      } else if (!existsSync(paths.postgresPasswordFile) || !(await postgresReady(pgOpts))) {
        throw new Error('PostgreSQL does not accept logins');
      }
    }),
  ]);
  return [
    {
      name: 'kafka',
      mode: config.KAFKA_BROKERS ? 'external' : 'embedded',
      installed: config.KAFKA_BROKERS ? undefined : existsSync(`${paths.kafkaLib}/.complete`),
      running: config.KAFKA_BROKERS ? k.ready : kafkaPid !== undefined,
      pid: kafkaPid,
      address: kafkaBrokers.join(','),
      ...k,
    },
    {
      name: 'temporal',
      mode: config.TEMPORAL_ADDRESS ? 'external' : 'embedded',
      installed: config.TEMPORAL_ADDRESS
        ? undefined
        : config.TEMPORAL_CLI_PATH !== undefined || existsSync(paths.temporalBin),
      running: config.TEMPORAL_ADDRESS ? t.ready : temporalPid !== undefined,
      pid: temporalPid,
      address: temporalAddress,
      ...t,
    },
    {
      name: 'postgres',
      mode: config.DATABASE_URL ? 'external' : 'embedded',
      installed: config.DATABASE_URL
        ? undefined
        : existsSync(paths.postgresDir) && readdirSync(paths.postgresDir).some((f) => f.startsWith('installed-')),
      running: config.DATABASE_URL ? p.ready : pgPid !== undefined,
      pid: pgPid,
      address: config.DATABASE_URL ? 'DATABASE_URL' : `127.0.0.1:${config.POSTGRES_PORT}`,
      ...p,
    },
  ];
}

/** Stops the embedded servers (external ones are left alone), whoever uses them. Idempotent. */
export async function stopInfra(
  config: InfraConfig,
  options: InfraOptions = {},
): Promise<{ kafka: StopOutcome; temporal: StopOutcome; postgres: StopOutcome }> {
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  writeAutostop(paths, []);
  const [kafka, temporal, postgres] = await Promise.all([
    config.KAFKA_BROKERS
      ? Promise.resolve<StopOutcome>('not-running')
      : stopKafka(kafkaOptionsFromConfig(config, paths), options.log),
    config.TEMPORAL_ADDRESS
      ? Promise.resolve<StopOutcome>('not-running')
      : stopTemporal(temporalOptionsFromConfig(config, 'temporal', paths), options.log),
    config.DATABASE_URL
      ? Promise.resolve<StopOutcome>('not-running')
      : stopPostgres(postgresOptionsFromConfig(config, '', paths), options.log),
  ]);
  return { kafka, temporal, postgres };
}

/**
 * Stops the embedded servers and deletes their data (Temporal db, Kafka logs, pid and log files). The cached Temporal
 * CLI and Kafka jars are kept unless `all` is set. Only known sub-folders of NOTIFY_HOME are removed, never the
 * folder itself (it may be a user-chosen directory).
 */
export async function wipeInfra(
  config: InfraConfig,
  options: InfraOptions & { all?: boolean } = {},
): Promise<string[]> {
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  await stopInfra(config, options);
  const targets = [paths.dataDir, paths.runDir, paths.logsDir, paths.kafkaConfigDir];
  if (options.all === true) targets.push(paths.binDir, paths.kafkaDir, paths.postgresDir);
  const removed = targets.filter((t) => existsSync(t));
  for (const target of removed) {
    rmSync(target, { recursive: true, force: true });
    options.log?.(`removed ${target}`);
  }
  return removed;
}
