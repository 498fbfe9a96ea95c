import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNamespace, waitForTemporalHealth } from '../../../src/temporal/namespace-setup.js';
import type { KafkaServerOptions } from '../kafka.js';
import { newKafkaClusterId, privateKafkaOptions, startKafka, stopKafka, waitForKafka } from '../kafka.js';
import type { PostgresServerOptions } from '../postgres.js';
import {
  ensureDatabase,
  ensurePostgresPassword,
  POSTGRES_SUPERUSER,
  postgresReady,
  postgresUrl,
  startPostgres,
  stopPostgres,
} from '../postgres.js';
import type { InfraLog, StopOutcome } from '../process.js';
import {
  assertPortsFree,
  InfraError,
  isProcessAlive,
  readPidFile,
  runningPid,
  spawnDetached,
  stopProcess,
  tailFile,
  waitUntil,
} from '../process.js';
import type { ClusterLayout } from './layout.js';
import { CLUSTER_KAFKA_NODES, clusterFiles } from './layout.js';
import type { TemporalClusterSettings, TemporalNodeOptions, TemporalServerInstall } from './temporal-server.js';
import {
  migrateTemporalSchemas,
  startTemporalNode,
  startTemporalUi,
  stopTemporalNode,
  temporalDynamicConfig,
  temporalNodeAddress,
} from './temporal-server.js';

/** Everything the cluster topology needs: its layout, the installed pieces and the settings that matter. */
export interface ClusterOptions {
  layout: ClusterLayout;
  /** Kafka runtime classpath (`ensureKafkaJars`). */
  kafkaLibDir: string;
  /** Heap of each broker (config CLUSTER_KAFKA_HEAP). */
  kafkaHeap: string;
  /** PostgreSQL server binaries (`ensurePostgresBinaries`). */
  postgresBinDir: string;
  temporal: TemporalServerInstall;
  /** Config TEMPORAL_HISTORY_SHARDS; fixed when the cluster's database is created. */
  numHistoryShards: number;
  namespace: string;
  retentionHours: number;
  log: InfraLog;
  readyTimeoutMs?: number;
  /** Run the Web UI (when its server is installed); default true. */
  ui?: boolean;
  /** The gateway's codec endpoint for the Web UI (decrypts payloads; needs an admin key). */
  uiCodecEndpoint?: string;
}

/** Where clients connect to a running cluster. */
export interface ClusterEndpoints {
  kafkaBrokers: string[];
  /** The frontend load balancer (use as TEMPORAL_ADDRESS). */
  temporalAddress: string;
  /** Superuser URL of the cluster's PostgreSQL (database `postgres`). */
  postgresUrl: string;
  /** notify's own database (`notify`, created by the start) on the same server, beside Temporal's. */
  databaseUrl: string;
  /** Base URL of the Web UI, when it runs. */
  temporalUiUrl?: string;
}

/** Kafka options of cluster node `nodeId` (pure apart from reading the cluster id). */
export function clusterKafkaOptions(
  opts: Pick<ClusterOptions, 'layout' | 'kafkaLibDir' | 'kafkaHeap'>,
  nodeId: number,
  clusterId?: string,
): KafkaServerOptions {
  const { layout } = opts;
  const node = layout.kafka.find((k) => k.nodeId === nodeId);
  if (node === undefined) throw new InfraError(`no Kafka node ${nodeId} in the cluster`);
  const voters = layout.kafka.map((k) => `${k.nodeId}@127.0.0.1:${k.controllerPort}`).join(',');
  const replicationFactor = Math.min(3, layout.kafka.length);
  return privateKafkaOptions(
    clusterFiles(layout).kafkaDir(nodeId),
    { libDir: opts.kafkaLibDir, port: node.port, controllerPort: node.controllerPort, heap: opts.kafkaHeap },
    {
      cluster: { nodeId, voters, replicationFactor, minInsyncReplicas: Math.max(1, replicationFactor - 1) },
      clusterId,
    },
  );
}

/** PostgreSQL options of the cluster (its own server and data folder, port from the layout). */
export function clusterPostgresOptions(layout: ClusterLayout, binDir: string): PostgresServerOptions {
  const f = clusterFiles(layout);
  return {
    binDir,
    dataDir: f.postgresData,
    port: layout.postgresPort,
    passwordFile: f.postgresPasswordFile,
    pidFile: f.postgresPid,
    logFile: f.postgresLog,
    // Each Temporal node's 4 services have their own pools (10 persistence + 5 visibility): 2 × 60, reconnecting all at
    // once after a restart; plenty of room left so readiness probes and notify's own clients still log in.
    settings: { max_connections: 400 },
  };
}

function clusterSettings(opts: Pick<ClusterOptions, 'layout' | 'numHistoryShards'>): TemporalClusterSettings {
  const f = clusterFiles(opts.layout);
  return {
    db: {
      host: '127.0.0.1',
      port: opts.layout.postgresPort,
      user: POSTGRES_SUPERUSER,
      password: ensurePostgresPassword(f.postgresPasswordFile),
      database: 'temporal',
      visibilityDatabase: 'temporal_visibility',
    },
    numHistoryShards: opts.numHistoryShards,
    dynamicConfigFile: f.dynamicConfigFile,
  };
}

/** Options of Temporal node `index` (0-based). */
export function clusterTemporalNodeOptions(
  opts: Pick<ClusterOptions, 'layout' | 'numHistoryShards' | 'temporal' | 'readyTimeoutMs'>,
  index: number,
): TemporalNodeOptions {
  const node = opts.layout.temporalNodes[index];
  if (node === undefined) throw new InfraError(`no Temporal node ${index + 1} in the cluster`);
  const dir = clusterFiles(opts.layout).temporalDir(node.name);
  return {
    install: opts.temporal,
    node,
    settings: clusterSettings(opts),
    configDir: join(dir, 'config'),
    logFile: join(dir, 'temporal.log'),
    pidFile: join(dir, 'temporal.pid'),
    readyTimeoutMs: opts.readyTimeoutMs,
  };
}

function kafkaClusterId(layout: ClusterLayout): string {
  const file = clusterFiles(layout).kafkaClusterIdFile;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = newKafkaClusterId();
  mkdirSync(layout.dir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}

/** The shard count is fixed by the first start: a later, different TEMPORAL_HISTORY_SHARDS is refused, naming the fix. */
function checkShards(layout: ClusterLayout, shards: number): void {
  const file = clusterFiles(layout).shardsFile;
  if (!existsSync(file)) {
    mkdirSync(layout.dir, { recursive: true });
    writeFileSync(file, `${shards}\n`);
    return;
  }
  const recorded = Number(readFileSync(file, 'utf8').trim());
  if (recorded !== shards) {
    throw new InfraError(
      `The cluster's Temporal database was created with ${recorded} history shards, but TEMPORAL_HISTORY_SHARDS is ${shards}; the shard count cannot change. ` +
        `Set TEMPORAL_HISTORY_SHARDS=${recorded}, or delete the cluster's data with \`npm run infra -- wipe --topology cluster\`.`,
    );
  }
}

const balancerEntry = fileURLToPath(new URL('./balancer-main.ts', import.meta.url));

/** Starts the frontend load balancer (detached), unless ours is running. */
export async function startBalancer(layout: ClusterLayout, log: InfraLog): Promise<void> {
  const f = clusterFiles(layout);
  if (runningPid(f.balancerPid, f.balancerTag) !== undefined) return;
  await assertPortsFree(
    [{ port: layout.balancerPort, setting: 'the Temporal load balancer port (CLUSTER_PORT_BASE+50)' }],
    'the Temporal load balancer',
    'pick another CLUSTER_PORT_BASE',
  );
  const args = ['--import', 'tsx', balancerEntry, '--listen', `127.0.0.1:${layout.balancerPort}`];
  for (const node of layout.temporalNodes) args.push('--backend', temporalNodeAddress(node));
  args.push('--tag', f.balancerTag);
  const pid = await spawnDetached({
    command: process.execPath,
    args,
    cwd: layout.dir,
    logFile: f.balancerLog,
    pidFile: f.balancerPid,
  });
  await waitUntil(
    () =>
      /balancer listening/.test(tailFile(f.balancerLog, 5))
        ? Promise.resolve()
        : Promise.reject(new Error('not listening yet')),
    {
      timeoutMs: 30_000,
      intervalMs: 100,
      abortIf: () => {
        if (!isProcessAlive(pid)) throw new InfraError(`The Temporal load balancer exited: ${tailFile(f.balancerLog)}`);
      },
    },
  );
  log(
    `Temporal load balancer on 127.0.0.1:${layout.balancerPort} → ${layout.temporalNodes.map(temporalNodeAddress).join(', ')}`,
  );
}

/** What {@link startCluster} reports. */
export interface StartedCluster extends ClusterEndpoints {
  /** Whether any server was started by this call (false: everything was already running). */
  startedAny: boolean;
}

/**
 * Brings the whole cluster up, or finishes bringing it up: PostgreSQL, 3 Kafka nodes (formatted once with a shared
 * cluster id), the Temporal schemas (created/migrated), 2 Temporal server processes, the frontend load balancer, and
 * the namespace with its retention and search attributes. Idempotent: running pieces are reused.
 */
export async function startCluster(opts: ClusterOptions): Promise<StartedCluster> {
  const { layout, log } = opts;
  mkdirSync(layout.dir, { recursive: true });
  checkShards(layout, opts.numHistoryShards);
  const pgOpts = clusterPostgresOptions(layout, opts.postgresBinDir);
  const clusterId = kafkaClusterId(layout);
  const kafkaOpts = layout.kafka.map((k) => clusterKafkaOptions(opts, k.nodeId, clusterId));
  let startedAny = false;
  // PostgreSQL and Kafka do not depend on each other: start them together (each Kafka node waits for the quorum).
  const [pgResult, ...kafkaResults] = await Promise.all([
    startPostgres(pgOpts, log, opts.readyTimeoutMs),
    ...kafkaOpts.map((k) => startKafka({ ...k, readyTimeoutMs: opts.readyTimeoutMs ?? 180_000 }, log)),
  ]);
  startedAny ||= pgResult.started || kafkaResults.some((r) => r.started);
  const brokers = layout.kafka.map((k) => `127.0.0.1:${k.port}`);
  await waitForKafka(brokers, opts.readyTimeoutMs ?? 120_000, { minBrokers: CLUSTER_KAFKA_NODES });
  log(
    `Kafka cluster ready: ${brokers.join(',')} (${CLUSTER_KAFKA_NODES} brokers, ${CLUSTER_KAFKA_NODES} controller voters)`,
  );

  await migrateTemporalSchemas(opts.temporal, clusterSettings(opts).db, log);
  writeFileSync(clusterFiles(layout).dynamicConfigFile, temporalDynamicConfig());
  // The first node initialises the cluster metadata and shards on a fresh database; the others join it.
  const first = await startTemporalNode(clusterTemporalNodeOptions(opts, 0), log);
  const rest = await Promise.all(
    layout.temporalNodes.slice(1).map((_, i) => startTemporalNode(clusterTemporalNodeOptions(opts, i + 1), log)),
  );
  startedAny ||= first.started || rest.some((r) => r.started);
  await startBalancer(layout, log);
  const temporalAddress = `127.0.0.1:${layout.balancerPort}`;
  await ensureNamespace({
    address: temporalAddress,
    namespace: opts.namespace,
    retentionHours: opts.retentionHours,
    log,
  });
  log(
    `Temporal cluster ready: ${layout.temporalNodes.length} server processes behind ${temporalAddress} (namespace ${opts.namespace}, ${opts.numHistoryShards} history shards)`,
  );
  let temporalUiUrl: string | undefined;
  if (opts.ui !== false && existsSync(opts.temporal.uiServer)) {
    const f = clusterFiles(layout);
    await startTemporalUi(
      {
        install: opts.temporal,
        configDir: f.uiDir,
        logFile: join(f.uiDir, 'ui.log'),
        pidFile: join(f.uiDir, 'ui.pid'),
        temporalAddress,
        port: layout.uiPort,
        namespace: opts.namespace,
        codecEndpoint: opts.uiCodecEndpoint,
      },
      log,
    );
    temporalUiUrl = `http://127.0.0.1:${layout.uiPort}`;
  }
  // notify's own database shares the cluster's PostgreSQL server (Temporal's databases beside it).
  await ensureDatabase(postgresUrl(pgOpts), 'notify');
  return {
    kafkaBrokers: brokers,
    temporalAddress,
    postgresUrl: postgresUrl(pgOpts),
    databaseUrl: postgresUrl(pgOpts, 'notify'),
    startedAny,
    temporalUiUrl,
  };
}

/** Stops everything of the cluster (load balancer, Temporal nodes, Kafka nodes, PostgreSQL). Idempotent. */
export async function stopCluster(
  opts: Pick<
    ClusterOptions,
    'layout' | 'kafkaLibDir' | 'kafkaHeap' | 'postgresBinDir' | 'temporal' | 'numHistoryShards'
  >,
  log?: InfraLog,
): Promise<Record<string, StopOutcome>> {
  const { layout } = opts;
  const f = clusterFiles(layout);
  const result: Record<string, StopOutcome> = {};
  result.ui = await stopProcess(join(f.uiDir, 'ui.pid'), {
    marker: f.uiDir,
    name: 'temporal web ui',
    timeoutMs: 5_000,
    log,
  });
  result.balancer = await stopProcess(f.balancerPid, {
    marker: f.balancerTag,
    name: 'temporal load balancer',
    timeoutMs: 5_000,
    log,
  });
  const nodes = await Promise.all(
    layout.temporalNodes.map((node) => {
      const dir = f.temporalDir(node.name);
      return stopTemporalNode({ node, pidFile: join(dir, 'temporal.pid'), configDir: join(dir, 'config') }, log);
    }),
  );
  layout.temporalNodes.forEach((n, i) => (result[`temporal ${n.name}`] = nodes[i] ?? 'not-running'));
  const brokers = await Promise.all(layout.kafka.map((k) => stopKafka(clusterKafkaOptions(opts, k.nodeId), log)));
  layout.kafka.forEach((k, i) => (result[`kafka ${k.nodeId}`] = brokers[i] ?? 'not-running'));
  result.postgres = await stopPostgres(clusterPostgresOptions(layout, opts.postgresBinDir), log);
  return result;
}

/** One line of `npm run infra -- status --topology cluster`. */
export interface ClusterComponentStatus {
  name: string;
  pid?: number;
  address: string;
  ready: boolean;
}

async function ok(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

/** Each process of the cluster: pid (ours, alive), address, readiness. Changes nothing. */
export async function clusterStatus(
  opts: Pick<
    ClusterOptions,
    'layout' | 'kafkaLibDir' | 'kafkaHeap' | 'postgresBinDir' | 'temporal' | 'numHistoryShards'
  >,
): Promise<ClusterComponentStatus[]> {
  const { layout } = opts;
  const f = clusterFiles(layout);
  const pg = clusterPostgresOptions(layout, opts.postgresBinDir);
  const rows: Array<Promise<ClusterComponentStatus>> = [];
  rows.push(
    (async () => ({
      name: 'postgres',
      pid: runningPid(pg.pidFile, pg.dataDir),
      address: `127.0.0.1:${layout.postgresPort}`,
      ready: existsSync(pg.passwordFile) && (await postgresReady(pg)),
    }))(),
  );
  for (const k of layout.kafka) {
    const o = clusterKafkaOptions(opts, k.nodeId);
    rows.push(
      (async () => ({
        name: `kafka ${k.nodeId}`,
        pid: runningPid(o.pidFile, join(o.configDir, 'server.properties')),
        address: `127.0.0.1:${k.port}`,
        ready: await ok(() => waitForKafka([`127.0.0.1:${k.port}`], 0)),
      }))(),
    );
  }
  layout.temporalNodes.forEach((node, i) => {
    const o = clusterTemporalNodeOptions({ ...opts, readyTimeoutMs: 0 }, i);
    rows.push(
      (async () => ({
        name: `temporal ${node.name}`,
        pid: runningPid(o.pidFile, o.configDir),
        address: temporalNodeAddress(node),
        ready: await ok(() => waitForTemporalHealth(temporalNodeAddress(node), 0)),
      }))(),
    );
  });
  rows.push(
    (async () => ({
      name: 'temporal lb',
      pid: runningPid(f.balancerPid, f.balancerTag),
      address: `127.0.0.1:${layout.balancerPort}`,
      ready: await ok(() => waitForTemporalHealth(`127.0.0.1:${layout.balancerPort}`, 0)),
    }))(),
  );
  rows.push(
    (async () => ({
      name: 'temporal ui',
      pid: runningPid(join(f.uiDir, 'ui.pid'), f.uiDir),
      address: `http://127.0.0.1:${layout.uiPort}`,
      ready: await fetch(`http://127.0.0.1:${layout.uiPort}/`).then(
        (r) => r.ok,
        () => false,
      ),
    }))(),
  );
  return Promise.all(rows);
}

/** Stops the cluster and deletes its data, config and logs (installed binaries and jars are kept). */
export async function wipeCluster(opts: Parameters<typeof stopCluster>[0], log?: InfraLog): Promise<boolean> {
  await stopCluster(opts, log);
  if (!existsSync(opts.layout.dir)) return false;
  rmSync(opts.layout.dir, { recursive: true, force: true });
  log?.(`removed ${opts.layout.dir}`);
  return true;
}

/** Sends SIGKILL to one process of ours recorded in `pidFile` (fault injection: no shutdown of any kind). */
export function killByPidFile(pidFile: string, marker: string): number {
  const pid = runningPid(pidFile, marker) ?? readPidFile(pidFile);
  if (pid === undefined || !isProcessAlive(pid)) throw new InfraError(`nothing of ours runs from ${pidFile}`);
  process.kill(pid, 'SIGKILL');
  return pid;
}
