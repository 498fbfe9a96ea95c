/**
 * The cluster topology (`--topology cluster`): 3 replicated Kafka brokers, PostgreSQL, and 2 real Temporal server
 * processes on it behind a frontend load balancer, all on loopback and under `.notify/cluster`.
 */
export type { ClusterComponentStatus, ClusterEndpoints, ClusterOptions, StartedCluster } from './cluster.js';
export {
  clusterKafkaOptions,
  clusterPostgresOptions,
  clusterStatus,
  clusterTemporalNodeOptions,
  killByPidFile,
  startBalancer,
  startCluster,
  stopCluster,
  wipeCluster,
} from './cluster.js';
export type { ClusterLayout, KafkaNodeSpec } from './layout.js';
export {
  CLUSTER_KAFKA_NODES,
  CLUSTER_PORT_BASE_MAX,
  CLUSTER_TEMPORAL_NODES,
  clusterFiles,
  clusterLayout,
  clusterPortBaseProblem,
} from './layout.js';
export type { Endpoint, TcpBalancer } from './tcp-balancer.js';
export { parseEndpoint, startTcpBalancer } from './tcp-balancer.js';
export type {
  TemporalClusterSettings,
  TemporalDatabase,
  TemporalNodeOptions,
  TemporalNodePorts,
  TemporalNodeSpec,
  TemporalServerInstall,
} from './temporal-server.js';
export {
  ensureTemporalServer,
  ensureTemporalUi,
  migrateTemporalSchemas,
  startTemporalNode,
  startTemporalUi,
  stopTemporalNode,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
  temporalDynamicConfig,
  temporalNodeAddress,
  temporalNodeConfig,
  temporalServerInstall,
  temporalServerInstalled,
  temporalUiConfig,
} from './temporal-server.js';
export type { ClusterConfig, RunningCluster, Topology } from './topology.js';
export {
  clusterOptionsFromConfig,
  clusterTopologyStatus,
  ensureCluster,
  installCluster,
  parseTopology,
  stopClusterTopology,
  wipeClusterTopology,
} from './topology.js';
