import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/config.js';
import {
  ensureDatabase,
  ensureKafkaJars,
  ensurePostgresBinaries,
  postgresUrl,
  privateKafkaOptions,
  privatePostgresOptions,
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
import type { TemporalServerOptions } from '../../dev/infra/index.js';
import {
  clusterFiles,
  clusterKafkaOptions,
  clusterLayout,
  clusterPostgresOptions,
  clusterTemporalNodeOptions,
  installCluster,
  startCluster,
  stopCluster,
} from '../../dev/infra/cluster/index.js';
import { freePort, isPortFree } from '../../dev/process-harness/index.js';

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
  /** Pid of every server process (Kafka brokers, Temporal servers, PostgreSQL…) by name, for CPU and RSS. */
  serverPids(): Record<string, number | undefined>;
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
  const pgOpts = privatePostgresOptions(join(home, 'postgres'), pgPort, pgBin);
  const kafkaOpts = privateKafkaOptions(join(home, 'kafka'), {
    libDir: shared.kafkaLib,
    port: kafkaPort,
    controllerPort,
    heap: config.KAFKA_HEAP,
  });
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
    serverPids: () => ({
      kafka: readPidFile(kafkaOpts.pidFile),
      temporal: readPidFile(current.pidFile),
      postgres: readPidFile(pgOpts.pidFile),
    }),
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

/** Ports a cluster layout spans from its base (Kafka, PostgreSQL, Temporal nodes, balancer, UI). */
const CLUSTER_SPAN = 52;

/** A cluster port base whose whole block is free on 127.0.0.1–3, searched upwards from `from`. */
async function freeClusterBase(from: number): Promise<number> {
  for (let base = from; base + CLUSTER_SPAN < 65_000; base += CLUSTER_SPAN + 8) {
    let free = true;
    for (let p = base; p < base + CLUSTER_SPAN && free; p++)
      for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) if (!(await isPortFree(p, host))) free = false;
    if (free) return base;
  }
  throw new Error(`no free block of ${CLUSTER_SPAN} ports above ${from} for the bench cluster`);
}

/**
 * The cluster topology for `npm run bench -- --topology cluster`: 3 Kafka brokers (RF 3, min ISR 2), PostgreSQL and
 * 2 Temporal server processes behind the load balancer, private to this run (own ports above CLUSTER_PORT_BASE + 100,
 * data under `<NOTIFY_HOME>/bench/<runId>/cluster`, deleted afterwards), no Web UI.
 */
export async function startPrivateClusterInfra(
  config: AppConfig,
  runId: string,
  log: (m: string) => void,
): Promise<PrivateInfra> {
  const shared = resolveInfraPaths(config.NOTIFY_HOME);
  const home = join(shared.home, 'bench', runId, 'cluster');
  mkdirSync(home, { recursive: true });
  const installed = await installCluster(config, log);
  const options = {
    ...installed,
    layout: clusterLayout(home, await freeClusterBase(config.CLUSTER_PORT_BASE + 100)),
    ui: false,
    log,
    readyTimeoutMs: 240_000,
  };
  const started = await startCluster(options).catch(async (err: unknown) => {
    await stopCluster(options).catch(() => undefined);
    throw err;
  });
  const { layout } = options;
  const serverPids = (): Record<string, number | undefined> => {
    const pids: Record<string, number | undefined> = {};
    for (const k of layout.kafka)
      pids[`kafka ${k.nodeId}`] = readPidFile(clusterKafkaOptions(options, k.nodeId).pidFile);
    layout.temporalNodes.forEach((n, i) => {
      pids[`temporal ${n.name}`] = readPidFile(clusterTemporalNodeOptions(options, i).pidFile);
    });
    pids['temporal lb'] = readPidFile(clusterFiles(layout).balancerPid);
    pids.postgres = readPidFile(clusterPostgresOptions(layout, options.postgresBinDir).pidFile);
    return pids;
  };
  return {
    kafkaBrokers: started.kafkaBrokers,
    temporalAddress: started.temporalAddress,
    databaseUrl: started.databaseUrl,
    namespace: config.TEMPORAL_NAMESPACE,
    pragmas: [],
    kafkaPid: () => serverPids()['kafka 1'],
    temporalPid: () => serverPids()['temporal node1'],
    serverPids,
    restartTemporal: () => Promise.reject(new Error('the cluster topology has no SQLite pragmas to vary')),
    async stop() {
      await stopCluster(options, log).catch(() => undefined);
      rmSync(join(shared.home, 'bench', runId), { recursive: true, force: true });
    },
  };
}
