import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/config.js';
import {
  ensureDatabase,
  ensureKafkaJars,
  ensurePostgresBinaries,
  postgresUrl,
  startPostgres,
  stopPostgres,
  ensureTemporalCli,
  readPidFile,
  resolveInfraPaths,
  startKafka,
  startTemporal,
  stopKafka,
  stopTemporal,
  temporalAddressFor,
} from '../../dev/infra/index.js';
import type { KafkaServerOptions, PostgresServerOptions, TemporalServerOptions } from '../../dev/infra/index.js';
import { freePort } from '../../dev/process-harness/index.js';

/** A Kafka broker and a Temporal dev server that only this benchmark run uses (own ports, own data dirs). */
export interface PrivateInfra {
  kafkaBrokers: string[];
  temporalAddress: string;
  /** The `notify` database of a private PostgreSQL server (recipients, suppressions). */
  databaseUrl: string;
  namespace: string;
  /** Pragmas of the Temporal server currently running. */
  pragmas: string[];
  kafkaPid(): number | undefined;
  temporalPid(): number | undefined;
  /** Replaces the Temporal server by a fresh one (empty database) with these SQLite pragmas, same address. */
  restartTemporal(pragmas: string[]): Promise<void>;
  /** Stops both servers and deletes their data. */
  stop(): Promise<void>;
}

/** A free port below the ephemeral range (the tooling's one `freePort`, re-exported for the bench phases). */
export { freePort };

/**
 * Starts a private Kafka and Temporal under `<NOTIFY_HOME>/bench/<runId>/`, reusing the shared install caches (Temporal
 * CLI binary, Kafka jars) but never the shared servers, so the benchmark neither disturbs nor is disturbed by tests.
 */
export async function startPrivateInfra(
  config: AppConfig,
  runId: string,
  pragmas: string[],
  log: (m: string) => void,
): Promise<PrivateInfra> {
  const shared = resolveInfraPaths(config.NOTIFY_HOME);
  const home = join(shared.home, 'bench', runId);
  mkdirSync(home, { recursive: true });
  const [cli, pgBin] = await Promise.all([
    ensureTemporalCli({ cliPath: config.TEMPORAL_CLI_PATH, binDir: shared.binDir, log }),
    ensurePostgresBinaries({ dir: shared.postgresDir, log }),
    ensureKafkaJars({ kafkaVersion: config.KAFKA_VERSION, kafkaDir: shared.kafkaDir, libDir: shared.kafkaLib, log }),
  ]);
  const [kafkaPort, controllerPort, temporalPort, uiPort, pgPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const pgOpts: PostgresServerOptions = {
    binDir: pgBin,
    dataDir: join(home, 'postgres-data'),
    port: pgPort,
    passwordFile: join(home, 'postgres-password'),
    pidFile: join(home, 'postgres.pid'),
    logFile: join(home, 'postgres.log'),
  };
  const kafkaOpts: KafkaServerOptions = {
    port: kafkaPort,
    controllerPort,
    dataDir: join(home, 'kafka-data'),
    libDir: shared.kafkaLib,
    configDir: join(home, 'kafka-config'),
    formatFile: join(home, 'kafka-format.json'),
    heap: config.KAFKA_HEAP,
    logFile: join(home, 'kafka.log'),
    stdoutLog: join(home, 'kafka.stdout.log'),
    pidFile: join(home, 'kafka.pid'),
  };
  let generation = 0;
  const temporalOpts = (p: string[]): TemporalServerOptions => ({
    cli,
    port: temporalPort,
    uiPort,
    dbFile: join(home, `temporal-${generation}.db`),
    namespace: config.TEMPORAL_NAMESPACE,
    sqlitePragmas: p,
    logFile: join(home, `temporal-${generation}.log`),
    pidFile: join(home, 'temporal.pid'),
  });
  let current = temporalOpts(pragmas);
  await Promise.all([startKafka(kafkaOpts, log), startTemporal(current, log), startPostgres(pgOpts, log)]);
  await ensureDatabase(postgresUrl(pgOpts), 'notify');
  const infra: PrivateInfra = {
    kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
    temporalAddress: temporalAddressFor(temporalPort),
    databaseUrl: postgresUrl(pgOpts, 'notify'),
    namespace: config.TEMPORAL_NAMESPACE,
    pragmas,
    kafkaPid: () => readPidFile(kafkaOpts.pidFile),
    temporalPid: () => readPidFile(current.pidFile),
    async restartTemporal(next) {
      await stopTemporal(current, log);
      rmSync(current.dbFile, { force: true });
      generation++;
      current = temporalOpts(next);
      await startTemporal(current, log);
      infra.pragmas = next;
    },
    async stop() {
      await Promise.allSettled([stopKafka(kafkaOpts, log), stopTemporal(current, log), stopPostgres(pgOpts, log)]);
      rmSync(home, { recursive: true, force: true });
    },
  };
  return infra;
}
