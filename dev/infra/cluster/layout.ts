import { join } from 'node:path';
import type { TemporalNodeSpec } from './temporal-server.js';

/** One Kafka node of the cluster (combined broker + controller). */
export interface KafkaNodeSpec {
  nodeId: number;
  port: number;
  controllerPort: number;
}

/** Where every piece of the cluster topology listens and keeps its files. */
export interface ClusterLayout {
  /** All data, config, logs and pid files of the cluster (`.notify/cluster`). */
  dir: string;
  kafka: KafkaNodeSpec[];
  postgresPort: number;
  temporalNodes: TemporalNodeSpec[];
  /** The address clients use for Temporal: a TCP load balancer over the nodes' frontends, on 127.0.0.1. */
  balancerPort: number;
  /** Temporal Web UI (only when the ui-server is installed). */
  uiPort: number;
}

/** Kafka brokers, controller voters and their replication (3 nodes: RF 3, min ISR 2 tolerates one broker down). */
export const CLUSTER_KAFKA_NODES = 3;
/** Temporal server processes sharing the database (one may fail; the other serves). */
export const CLUSTER_TEMPORAL_NODES = 2;

/**
 * Highest usable base: Temporal stores each node's membership port in PostgreSQL `cluster_membership.rpc_port`, a
 * `smallint`, so the highest one (base+48) must be ≤ 32767; a server above it stops at start-up with a database error.
 */
export const CLUSTER_PORT_BASE_MAX = 32_767 - 48;

/** Why `base` cannot carry the cluster layout, or undefined when it can (pure). */
export function clusterPortBaseProblem(base: number): string | undefined {
  if (base > CLUSTER_PORT_BASE_MAX)
    return `cluster port base ${base} is too high: Temporal stores its membership ports (up to base+48 = ${base + 48}) in a PostgreSQL smallint (≤ 32767); use a base of at most ${CLUSTER_PORT_BASE_MAX}`;
  return undefined;
}

/**
 * The cluster's fixed port layout from one base port (config CLUSTER_PORT_BASE, default 22700), pure:
 * - Kafka node i (i = 0, 1, 2): client base+i, controller base+10+i;
 * - PostgreSQL: base+20;
 * - Temporal node i (i = 0, 1) on its own loopback address 127.0.0.(2+i), block base+30+10i: frontend +0,
 *   frontend membership +1, frontend HTTP +2, history +3/+4, matching +5/+6, worker +7/+8;
 * - the frontend load balancer (TEMPORAL_ADDRESS for clients): 127.0.0.1:base+50; Web UI base+51.
 */
export function clusterLayout(dir: string, base: number): ClusterLayout {
  const problem = clusterPortBaseProblem(base);
  if (problem !== undefined) throw new Error(problem);
  const kafka = Array.from({ length: CLUSTER_KAFKA_NODES }, (_, i) => ({
    nodeId: i + 1,
    port: base + i,
    controllerPort: base + 10 + i,
  }));
  const temporalNodes = Array.from({ length: CLUSTER_TEMPORAL_NODES }, (_, i): TemporalNodeSpec => {
    const b = base + 30 + 10 * i;
    return {
      name: `node${i + 1}`,
      ip: `127.0.0.${2 + i}`,
      ports: {
        frontend: b,
        frontendMembership: b + 1,
        frontendHttp: b + 2,
        history: b + 3,
        historyMembership: b + 4,
        matching: b + 5,
        matchingMembership: b + 6,
        worker: b + 7,
        workerMembership: b + 8,
      },
    };
  });
  return { dir, kafka, postgresPort: base + 20, temporalNodes, balancerPort: base + 50, uiPort: base + 51 };
}

/** Files of one cluster (pure). */
export function clusterFiles(layout: ClusterLayout) {
  const d = layout.dir;
  return {
    kafkaDir: (nodeId: number) => join(d, `kafka-${nodeId}`),
    kafkaClusterIdFile: join(d, 'kafka-cluster-id'),
    postgresData: join(d, 'postgres', 'data'),
    postgresPasswordFile: join(d, 'postgres', 'password'),
    postgresPid: join(d, 'postgres', 'postgres.pid'),
    postgresLog: join(d, 'postgres', 'postgres.log'),
    temporalDir: (name: string) => join(d, `temporal-${name}`),
    dynamicConfigFile: join(d, 'temporal-dynamicconfig.yaml'),
    shardsFile: join(d, 'temporal-shards'),
    balancerPid: join(d, 'balancer', 'balancer.pid'),
    balancerLog: join(d, 'balancer', 'balancer.log'),
    balancerTag: join(d, 'balancer'),
    uiDir: join(d, 'ui'),
  };
}
