/** The chaos run's building blocks, shared by `chaos/run.ts` (npm run chaos) and `test/chaos.test.ts`. */
export { CHAOS_ATTEMPT_TIMEOUT_MS, CHAOS_SHUTDOWN_GRACE_MS, runChaos } from './chaos.js';
export type { ChaosHooks, ChaosResult } from './chaos.js';
export { chaosChannelEnv, startCluster } from './cluster.js';
export type { ChaosCluster, ClusterOptions } from './cluster.js';
export { chaosPorts, clusterPorts, FETCH_BLOCKED_PORTS, freeChaosPortBase, portBaseProblem } from './ports.js';
export type { ClusterPorts } from './ports.js';
export { CHAOS_FAULT_KINDS, DEFAULT_FAULT_KINDS, injectFault, planFaults, runFaults } from './faults.js';
export type { ChaosFaultKind, FaultPlanOptions, FaultRunOptions, InjectedFault, PlannedFault } from './faults.js';
export { buildLedger, formatLedger } from './ledger.js';
export type {
  DuplicateDetail,
  GatewayCounts,
  Ledger,
  LedgerFault,
  LedgerInput,
  Percentiles,
  SinkReceipt,
} from './ledger.js';
export { runLoad } from './load.js';
export type { Acknowledged, AttemptEvent, LoadOptions, LoadReport } from './load.js';
export { CHAOS_USAGE, DEFAULT_CHAOS_OPTIONS, parseChaosArgs } from './options.js';
export type { ChaosOptions } from './options.js';
export { killLeftovers, ManagedProcess } from './processes.js';
export type { ProcessEventLog, ProcessSpec } from './processes.js';
export { seededRandom } from './random.js';
export type { Random } from './random.js';
export { planWorkload, SAMPLE_DELIVERIES, SUPPORTED_CHANNELS } from './workload.js';
export type { PlannedDelivery, PlannedNotification, WorkloadOptions } from './workload.js';
