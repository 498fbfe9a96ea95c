import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { childEnvironment, loadConfig } from '../src/config/config.js';
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
  repoRoot,
  resolveInfraPaths,
  startKafka,
  waitForKafka,
  startTemporal,
  stopKafka,
  stopTemporal,
} from '../dev/infra/index.js';
import type { PostgresServerOptions, TemporalServerOptions } from '../dev/infra/index.js';
import type { ClusterOptions as TopologyOptions } from '../dev/infra/cluster/index.js';
import {
  clusterKafkaOptions,
  clusterLayout,
  clusterPostgresOptions,
  clusterTemporalNodeOptions,
  installCluster,
  killByPidFile,
  startCluster as startTopology,
  startTemporalNode,
  stopCluster as stopTopology,
} from '../dev/infra/cluster/index.js';
import { Kafka, logLevel } from 'kafkajs';
import { killLeftovers, ManagedProcess } from './processes.js';
import { CLUSTER_LAYOUT_OFFSET, clusterPorts } from './ports.js';
import type { ClusterPorts } from './ports.js';
import type { ProcessEventLog } from './processes.js';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  portBase: number;
  /** Private state folder (relative to the repo root or absolute); wiped first. */
  workDir: string;
  channels: string[];
  ingestConsumers: number;
  workersPerChannel: number;
  /** Delivery attempt timeout (ms) given to every channel; sender timeouts are set just below it. */
  attemptTimeoutMs: number;
  /** Graceful-drain time of workers on SIGTERM. */
  shutdownGraceMs: number;
  log: ProcessEventLog;
  /** `embedded` (one broker, Temporal dev server) or `cluster` (3 brokers, 2 Temporal servers on PostgreSQL). */
  topology?: 'embedded' | 'cluster';
}

/** The cluster topology's own faults; each returns once the system is whole again. */
export interface ClusterFaults {
  /** SIGKILL the broker leading partition 0 of the ingress topic, restart it after `downMs`. */
  killLeaderBroker(downMs: number): Promise<{ target: string; action: string }>;
  /** SIGKILL Temporal server process `target` (modulo their number), restart it after `downMs`. */
  killTemporalNode(target: number, downMs: number): Promise<{ target: string; action: string }>;
  /** Fast shutdown of PostgreSQL, start again after `downMs`. */
  restartPostgres(downMs: number): Promise<{ target: string; action: string }>;
}

/** The system under test: private Kafka and Temporal plus every component as its own OS process. */
export interface ChaosCluster {
  ports: ClusterPorts;
  gatewayUrl: string;
  sinksUrl: string;
  /** Every component process by name. */
  processes: Map<string, ManagedProcess>;
  /** Names of the process groups the faults pick from. */
  groups: { ingest: string[]; workflowWorkers: string[]; channelWorkers: Record<string, string[]> };
  /** Stops the Kafka broker (`kill`: SIGKILL instead of a controlled shutdown). */
  stopKafka(kill: boolean): Promise<void>;
  startKafka(): Promise<void>;
  /** Stops the Temporal dev server (`kill`: SIGKILL instead of SIGTERM). */
  stopTemporal(kill: boolean): Promise<void>;
  startTemporal(): Promise<void>;
  /** Present on the cluster topology. */
  clusterFaults?: ClusterFaults;
  /** Where component logs are. */
  logsDir: string;
  /** Stops every process and both servers; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Retry settings of every channel in the chaos run. Attempts are effectively unlimited (1,000 with a 5 s cap on the
 * back-off is hours of retrying) so that no fault window can exhaust them: a delivery that still failed would park
 * the workflow in "failed, awaiting retry" and show up as lost, which would measure the retry budget, not durability.
 * The attempt timeout is short (default 5 s) so that a send hanging on a killed worker or a `timeout` sink fault is
 * retried quickly; the heartbeat timeout follows it (min(attempt, 15 s)).
 */
export function chaosChannelEnv(channels: string[], attemptTimeoutMs: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const channel of channels) {
    const p = channel.toUpperCase();
    env[`${p}_RETRY_INITIAL_INTERVAL_MS`] = '500';
    env[`${p}_RETRY_BACKOFF`] = '2';
    env[`${p}_RETRY_MAX_INTERVAL_MS`] = '5000';
    env[`${p}_RETRY_MAX_ATTEMPTS`] = '1000';
    env[`${p}_ATTEMPT_TIMEOUT_MS`] = String(attemptTimeoutMs);
    env[`${p}_TOTAL_TIMEOUT_MS`] = String(6 * 3600_000);
    // The sender's own network timeout fires first, so a hung provider is classified as a transient error.
    env[`${p}_TIMEOUT_MS`] = String(Math.max(1_000, attemptTimeoutMs - 1_500));
  }
  return env;
}

async function stopGroup(pidFile: string, stop: () => Promise<unknown>, kill: boolean): Promise<void> {
  if (kill) {
    const pid = readPidFile(pidFile);
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL'); // the server runs detached in its own process group
      } catch {
        // already gone
      }
    }
  }
  // After SIGKILL this only cleans the pid file (or finishes the job if the group kill missed).
  await stop();
}

/**
 * Starts a private cluster under `workDir`: Kafka and a Temporal dev server (persistent SQLite file) on ports derived
 * from `portBase`, then the sinks, the gateway, `ingestConsumers` ingest processes, one workflow worker and
 * `workersPerChannel` worker processes per channel, all pointed at the private servers and the sinks. Installs
 * nothing new: the Kafka jars and Temporal CLI come from the shared cache (`.notify/`). On failure everything started
 * so far is stopped.
 */
export async function startCluster(options: ClusterOptions): Promise<ChaosCluster> {
  const root = repoRoot();
  const work = resolve(root, options.workDir);
  const ports = clusterPorts(options.portBase);
  const config = loadConfig();
  const shared = resolveInfraPaths(config.NOTIFY_HOME);
  const log = options.log;

  const kafkaOpts = privateKafkaOptions(join(work, 'kafka'), {
    libDir: shared.kafkaLib,
    port: ports.kafka,
    controllerPort: ports.kafkaController,
    heap: config.KAFKA_HEAP,
  });
  const temporalBase: Omit<TemporalServerOptions, 'cli'> = {
    port: ports.temporal,
    uiPort: ports.temporalUi,
    dbFile: join(work, 'data', 'temporal.db'),
    namespace: config.TEMPORAL_NAMESPACE,
    // WAL + NORMAL: durable across process crashes (only an OS crash could lose the last commits).
    sqlitePragmas: ['journal_mode=WAL', 'synchronous=NORMAL'],
    logFile: join(work, 'logs', 'temporal.log'),
    pidFile: join(work, 'run', 'temporal.pid'),
  };

  // Recipients / suppressions database (channel workers check every delivery against it).
  const postgresBase = privatePostgresOptions(join(work, 'postgres'), ports.postgres);

  // Leftovers of an interrupted earlier run on the same folder go first, then its data.
  const leftovers = killLeftovers(join(work, 'run', 'components'));
  if (leftovers > 0) log(`killed ${leftovers} component process(es) left over by an earlier run`);
  await stopKafka(kafkaOpts);
  await stopTemporal(temporalBase);
  await stopPostgres(postgresBase);
  for (const sub of ['data', 'run', 'logs', 'kafka', 'postgres'])
    rmSync(join(work, sub), { recursive: true, force: true });
  mkdirSync(join(work, 'logs'), { recursive: true });

  const infraLog = (line: string) => log(`infra: ${line}`);
  const isCluster = options.topology === 'cluster';
  let topology: TopologyOptions | undefined;
  if (isCluster) {
    // Cluster ports: base+5000 … base+5051 (clear of the component ports above).
    const installed = await installCluster(config, infraLog);
    topology = {
      ...installed,
      layout: clusterLayout(join(work, 'cluster'), options.portBase + CLUSTER_LAYOUT_OFFSET),
      kafkaHeap: '256m',
      numHistoryShards: 8,
      ui: false,
      log: infraLog,
      readyTimeoutMs: 180_000,
    };
    await stopTopology(topology, infraLog);
    rmSync(join(work, 'cluster'), { recursive: true, force: true });
  } else {
    await ensureKafkaJars({
      kafkaVersion: config.KAFKA_VERSION,
      kafkaDir: shared.kafkaDir,
      libDir: shared.kafkaLib,
      log: infraLog,
    });
  }
  const cli = isCluster
    ? 'temporal'
    : await ensureTemporalCli({ cliPath: config.TEMPORAL_CLI_PATH, binDir: shared.binDir, log: infraLog });
  const temporalOpts: TemporalServerOptions = { ...temporalBase, cli };
  const postgresOpts: PostgresServerOptions = {
    ...postgresBase,
    binDir: await ensurePostgresBinaries({ dir: shared.postgresDir, log: infraLog }),
  };

  const processes = new Map<string, ManagedProcess>();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const p of processes.values()) p.retire();
    // Ingest and gateway first (no new work), workers after (they drain), sinks last (they receive the drain).
    const order = (p: ManagedProcess) => (p.spec.name === 'sinks' ? 2 : p.spec.name.startsWith('worker') ? 1 : 0);
    for (const stage of [0, 1, 2]) {
      await Promise.all(
        [...processes.values()].filter((p) => order(p) === stage).map((p) => p.close(options.shutdownGraceMs + 5_000)),
      );
    }
    if (topology !== undefined) await stopTopology(topology, infraLog);
    else
      await Promise.all([
        stopKafka(kafkaOpts, infraLog),
        stopTemporal(temporalBase, infraLog),
        stopPostgres(postgresBase, infraLog),
      ]);
  };

  try {
    let kafkaBrokers = `127.0.0.1:${ports.kafka}`;
    let temporalAddress = `127.0.0.1:${ports.temporal}`;
    let databaseUrl = postgresUrl(postgresOpts, 'notify');
    if (topology !== undefined) {
      const up = await startTopology(topology);
      kafkaBrokers = up.kafkaBrokers.join(',');
      temporalAddress = up.temporalAddress;
      databaseUrl = up.databaseUrl;
      log(
        `cluster topology ready: Kafka ${kafkaBrokers}, Temporal ${temporalAddress} (${topology.layout.temporalNodes.length} servers on PostgreSQL)`,
      );
    } else {
      await Promise.all([
        startKafka(kafkaOpts, infraLog).then((r) => log(`Kafka ready on 127.0.0.1:${ports.kafka} (pid ${r.pid})`)),
        startTemporal(temporalOpts, infraLog).then((r) =>
          log(`Temporal ready on 127.0.0.1:${ports.temporal} (pid ${r.pid}, UI http://127.0.0.1:${ports.temporalUi})`),
        ),
        startPostgres(postgresOpts, infraLog).then((r) =>
          log(`PostgreSQL ready on 127.0.0.1:${ports.postgres} (pid ${r.pid})`),
        ),
      ]);
      await ensureDatabase(postgresUrl(postgresOpts), 'notify');
    }

    const env = childEnvironment({
      NOTIFY_ENV: 'test',
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: kafkaBrokers,
      TEMPORAL_ADDRESS: temporalAddress,
      DATABASE_URL: databaseUrl,
      // On the cluster a produce waits out a broker failover (session timeout + election) instead of answering 503.
      ...(isCluster ? { KAFKA_PRODUCE_TIMEOUT_MS: '15000' } : {}),
      TEMPORAL_UI_URL: `http://127.0.0.1:${ports.temporalUi}`,
      TEMPORAL_TASK_QUEUE_PREFIX: 'chaos',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(ports.gateway),
      SINKS_HOST: '127.0.0.1',
      SINKS_HTTP_PORT: String(ports.sinksHttp),
      SINKS_SMTP_PORT: String(ports.sinksSmtp),
      // A killed consumer's partitions move to the survivor after the session timeout.
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      // Come back quickly after Temporal restarts.
      INGEST_BACKOFF_MAX_MS: '5000',
      WORKER_SHUTDOWN_GRACE_MS: String(options.shutdownGraceMs),
      // The load is one anonymous client far above the default per-client limit; measure delivery, not admission.
      AUTH_DISABLED: 'true',
      RATE_LIMIT_MAX: '0',
      // Several ingest/worker processes share the host: their metrics listeners would collide on the default ports.
      INGEST_METRICS_PORT: '0',
      WORKER_METRICS_PORT: '0',
      TEMPORAL_SDK_METRICS_PORT: '0',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(ports.sinksSmtp),
      SMS_BASE_URL: `http://127.0.0.1:${ports.sinksHttp}`,
      SLACK_API_URL: `http://127.0.0.1:${ports.sinksHttp}/slack/api`,
      ...chaosChannelEnv(options.channels, options.attemptTimeoutMs),
    });
    const logsDir = join(work, 'logs');
    const add = (name: string, entry: string, args: string[], readyLine: string) => {
      const pidFile = join(work, 'run', 'components', `${name}.pid`);
      const p = new ManagedProcess(
        { name, entry, args, env, cwd: root, logFile: join(logsDir, `${name}.log`), readyLine, pidFile },
        log,
      );
      processes.set(name, p);
      return p;
    };
    await add('sinks', 'dev/sinks/main.ts', [], 'dev sinks listening').start();
    await add('gateway', 'src/api/main.ts', [], 'gateway listening').start();
    const groups: ChaosCluster['groups'] = { ingest: [], workflowWorkers: ['worker-workflows'], channelWorkers: {} };
    const starting: Promise<void>[] = [
      add('worker-workflows', 'src/workers/main.ts', ['--workflows'], 'workers running').start(),
    ];
    for (let i = 1; i <= options.ingestConsumers; i++) {
      groups.ingest.push(`ingest-${i}`);
      starting.push(add(`ingest-${i}`, 'src/ingest/main.ts', [], 'ingest consuming').start());
    }
    for (const channel of options.channels) {
      groups.channelWorkers[channel] = [];
      for (let i = 1; i <= options.workersPerChannel; i++) {
        const name = `worker-${channel}-${i}`;
        groups.channelWorkers[channel].push(name);
        starting.push(add(name, 'src/workers/main.ts', ['--channels', channel], 'workers running').start());
      }
    }
    await Promise.all(starting);
    log(`all ${processes.size} component processes ready (logs in ${logsDir})`);

    return {
      ports,
      gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
      sinksUrl: `http://127.0.0.1:${ports.sinksHttp}`,
      processes,
      groups,
      logsDir,
      clusterFaults:
        topology !== undefined
          ? clusterFaults(topology, kafkaBrokers.split(','), config.KAFKA_TOPIC, infraLog)
          : undefined,
      stopKafka: (kill) => stopGroup(kafkaOpts.pidFile, () => stopKafka(kafkaOpts), kill),
      startKafka: async () => {
        await startKafka(kafkaOpts, infraLog);
      },
      stopTemporal: (kill) => stopGroup(temporalBase.pidFile, () => stopTemporal(temporalBase), kill),
      startTemporal: async () => {
        await startTemporal(temporalOpts, infraLog);
      },
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cluster topology's faults (see {@link ClusterFaults}). */
function clusterFaults(
  topology: TopologyOptions,
  brokers: string[],
  topic: string,
  log: (line: string) => void,
): ClusterFaults {
  return {
    async killLeaderBroker(downMs) {
      const kafka = new Kafka({ clientId: 'chaos-leader-probe', brokers, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).finally(() => void admin.disconnect());
      const leader = meta.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader ?? 1;
      const opts = clusterKafkaOptions(topology, leader);
      const pid = killByPidFile(opts.pidFile, join(opts.configDir, 'server.properties'));
      await pause(downMs);
      await startKafka({ ...opts, readyTimeoutMs: 180_000 }, log);
      await waitForKafka(brokers, 120_000, { minBrokers: topology.layout.kafka.length });
      return {
        target: `kafka ${leader}`,
        action: `kill -9 pid ${pid} (leader of partition 0), restarted after ${downMs} ms`,
      };
    },
    async killTemporalNode(target, downMs) {
      const index = target % topology.layout.temporalNodes.length;
      const opts = clusterTemporalNodeOptions(topology, index);
      const pid = killByPidFile(opts.pidFile, opts.configDir);
      await pause(downMs);
      await startTemporalNode(opts, log);
      return { target: `temporal ${opts.node.name}`, action: `kill -9 pid ${pid}, restarted after ${downMs} ms` };
    },
    async restartPostgres(downMs) {
      const pg = clusterPostgresOptions(topology.layout, topology.postgresBinDir);
      await stopPostgres(pg, log);
      await pause(downMs);
      await startPostgres(pg, log);
      return { target: 'postgres', action: `fast shutdown, down ${downMs} ms, started again` };
    },
  };
}
