import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { waitForTopicReady } from '../../src/kafka/topics.js';
import { loadConfig } from '../../src/config/config.js';
import { resolveInfraPaths } from '../../dev/infra/paths.js';
import { runningPid } from '../../dev/infra/process.js';
import { isPortFree } from '../../dev/process-harness/index.js';
import type { ClusterOptions, StartedCluster } from '../../dev/infra/cluster/index.js';
import {
  clusterKafkaOptions,
  clusterLayout,
  clusterPostgresOptions,
  clusterTemporalNodeOptions,
  installCluster,
  killByPidFile,
  startCluster,
  stopCluster,
} from '../../dev/infra/cluster/index.js';
import { ensureKafkaJars, newKafkaClusterId, startKafka, stopKafka, waitForKafka } from '../../dev/infra/kafka.js';
import { startPostgres, stopPostgres } from '../../dev/infra/postgres.js';
import { startTemporalNode } from '../../dev/infra/cluster/index.js';

/** A private cluster topology (3 Kafka brokers, PostgreSQL, 2 Temporal servers) that a test may break at will. */
export interface PrivateCluster extends StartedCluster {
  options: ClusterOptions;
  /** SIGKILL Kafka node `nodeId` (1-based): no controlled shutdown. Returns the pid killed. */
  killBroker(nodeId: number): number;
  /** Starts Kafka node `nodeId` again on its data. */
  startBroker(nodeId: number): Promise<void>;
  /** The node id leading `partition` of `topic`. */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** SIGKILL Temporal server process `index` (0-based). */
  killTemporalNode(index: number): number;
  startTemporalNode(index: number): Promise<void>;
  /** Whether Temporal node `index` runs. */
  temporalNodeRunning(index: number): boolean;
  /** Stops PostgreSQL (fast shutdown) and starts it again. */
  restartPostgres(): Promise<void>;
  /** Stops everything and deletes the cluster's folder. */
  dispose(): Promise<void>;
}

const LAYOUT_SPAN = 52;

async function withAdmin<T>(brokers: string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: 'cluster-test-probe', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The node id leading `partition` of `topic` once every partition has a leader (a broker may have just died). */
export function leaderOf(brokers: string[], topic: string, partition: number): Promise<number> {
  return withAdmin(brokers, async (admin) => {
    const meta = await waitForTopicReady(admin, topic, { timeoutMs: 60_000 });
    const leader = meta.topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
    if (leader === undefined) throw new Error(`no partition ${partition} in ${topic}`);
    return leader;
  });
}

/** Waits until partition i of `topic` is led by `leaders[i]` (e.g. the preferred leaders after creation). */
export async function waitForLeaders(
  brokers: string[],
  topic: string,
  leaders: number[],
  timeoutMs: number,
): Promise<void> {
  await withAdmin(brokers, (admin) =>
    waitForTopicReady(admin, topic, {
      timeoutMs,
      ready: (meta) =>
        leaders.every((l, i) => meta.topics[0]?.partitions.find((p) => p.partitionId === i)?.leader === l),
    }),
  );
}

/** A port base whose whole block is free on 127.0.0.1–3 (private range, below the ephemeral ports). */
async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 12_000 + Math.floor(Math.random() * (19_900 - LAYOUT_SPAN - 12_000));
    let free = true;
    for (let p = base; p < base + LAYOUT_SPAN && free; p++) {
      for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) if (!(await isPortFree(p, host))) free = false;
    }
    if (free) return base;
  }
  throw new Error('no free port block for a private cluster');
}

/** Installs (first run) and starts a private cluster under `.notify/scenarios/cluster-<label>-…`, without Web UI. */
export async function startPrivateCluster(
  label: string,
  log: (line: string) => void = () => undefined,
): Promise<PrivateCluster> {
  const config = loadConfig({ TEMPORAL_HISTORY_SHARDS: '8' });
  const dir = join(
    resolveInfraPaths(config.NOTIFY_HOME).home,
    'scenarios',
    `cluster-${label}-${randomBytes(3).toString('hex')}`,
  );
  mkdirSync(dir, { recursive: true });
  const installed = await installCluster(config, log);
  const options: ClusterOptions = {
    ...installed,
    layout: clusterLayout(dir, await freeBase()),
    kafkaHeap: '256m',
    ui: false,
    log,
    readyTimeoutMs: 180_000,
  };
  let started: StartedCluster;
  try {
    started = await startCluster(options);
  } catch (err) {
    await stopCluster(options).catch(() => undefined);
    throw err;
  }
  const kafkaOf = (nodeId: number) => clusterKafkaOptions(options, nodeId);
  const pg = clusterPostgresOptions(options.layout, options.postgresBinDir);
  return {
    ...started,
    options,
    killBroker: (nodeId) =>
      killByPidFile(kafkaOf(nodeId).pidFile, join(kafkaOf(nodeId).configDir, 'server.properties')),
    startBroker: async (nodeId) => {
      await startKafka({ ...kafkaOf(nodeId), readyTimeoutMs: 180_000 }, log);
      await waitForKafka(started.kafkaBrokers, 120_000, { minBrokers: options.layout.kafka.length });
    },
    leaderOf: (topic, partition) => leaderOf(started.kafkaBrokers, topic, partition),
    killTemporalNode: (index) => {
      const o = clusterTemporalNodeOptions(options, index);
      return killByPidFile(o.pidFile, o.configDir);
    },
    startTemporalNode: async (index) => {
      await startTemporalNode(clusterTemporalNodeOptions(options, index), log);
    },
    temporalNodeRunning: (index) => {
      const o = clusterTemporalNodeOptions(options, index);
      return runningPid(o.pidFile, o.configDir) !== undefined;
    },
    restartPostgres: async () => {
      await stopPostgres(pg, log);
      await startPostgres(pg, log);
    },
    dispose: async () => {
      await stopCluster(options, log);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Three KRaft Kafka nodes (3 controller voters) and nothing else, for tests that break brokers. */
export interface PrivateKafkaCluster {
  brokers: string[];
  /** SIGKILL Kafka node `nodeId` (1-based). */
  killBroker(nodeId: number): number;
  /** Starts Kafka node `nodeId` again (after `killBroker`) and waits until all three brokers are registered. */
  startBroker(nodeId: number): Promise<void>;
  /** The node id leading `partition` of `topic`. */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** Waits until partition i of `topic` is led by `leaders[i]`. */
  waitForLeaders(topic: string, leaders: number[], timeoutMs: number): Promise<void>;
  /** Stops every node and deletes the folder. */
  dispose(): Promise<void>;
}

/**
 * Starts a private 3-node Kafka cluster under `.notify/scenarios/kafka-<label>-…` (jars installed on first use).
 * `extraProperties` go to every node (e.g. a shorter broker session timeout, so a killed leader is replaced sooner).
 */
export async function startPrivateKafkaCluster(
  label: string,
  extraProperties: Record<string, string | number> = {},
): Promise<PrivateKafkaCluster> {
  const config = loadConfig({});
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  const dir = join(paths.home, 'scenarios', `kafka-${label}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const kafkaLibDir = await ensureKafkaJars({
    kafkaVersion: config.KAFKA_VERSION,
    kafkaDir: paths.kafkaDir,
    libDir: paths.kafkaLib,
    log: () => undefined,
  });
  const layout = clusterLayout(dir, await freeBase());
  const clusterId = newKafkaClusterId();
  const nodes = layout.kafka.map((k) => {
    const o = clusterKafkaOptions({ layout, kafkaLibDir, kafkaHeap: '256m' }, k.nodeId, clusterId);
    return { ...o, extraProperties: { ...o.extraProperties, ...extraProperties }, readyTimeoutMs: 180_000 };
  });
  const brokers = layout.kafka.map((k) => `127.0.0.1:${k.port}`);
  const stopAll = () => Promise.all(nodes.map((o) => stopKafka(o).catch(() => undefined)));
  try {
    await Promise.all(nodes.map((o) => startKafka(o, () => undefined)));
    await waitForKafka(brokers, 120_000, { minBrokers: nodes.length });
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    brokers,
    killBroker: (nodeId) => {
      const o = nodes[nodeId - 1];
      if (o === undefined) throw new Error(`no Kafka node ${nodeId}`);
      return killByPidFile(o.pidFile, join(o.configDir, 'server.properties'));
    },
    startBroker: async (nodeId) => {
      const o = nodes[nodeId - 1];
      if (o === undefined) throw new Error(`no Kafka node ${nodeId}`);
      await startKafka(o, () => undefined);
      await waitForKafka(brokers, 120_000, { minBrokers: nodes.length });
    },
    leaderOf: (topic, partition) => leaderOf(brokers, topic, partition),
    waitForLeaders: (topic, leaders, timeoutMs) => waitForLeaders(brokers, topic, leaders, timeoutMs),
    dispose: async () => {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
