import { join } from 'node:path';
import { repoRoot, resolveNotifyHome } from '../../src/runtime/notify-home.js';

export { repoRoot };

/** Every file and folder the embedded infrastructure reads or writes, all under one home folder. */
export interface InfraPaths {
  /** `<repo>/.notify` unless NOTIFY_HOME says otherwise. */
  home: string;
  /** Cached binaries (`temporal`). */
  binDir: string;
  /** The Temporal CLI built by `go install` (used when no other CLI is configured or on PATH). */
  temporalBin: string;
  /** Maven project whose resolved runtime classpath is `kafkaLib`. */
  kafkaDir: string;
  kafkaPom: string;
  kafkaLib: string;
  /** Generated Kafka configuration (rewritten at every start). */
  kafkaConfigDir: string;
  /** Persistent state: the Temporal SQLite file and the Kafka log dirs. */
  dataDir: string;
  temporalDb: string;
  kafkaData: string;
  /** Cluster id and controller port the Kafka storage was formatted with. */
  kafkaFormatFile: string;
  /** Pid files and the start lock. */
  runDir: string;
  temporalPid: string;
  kafkaPid: string;
  lockDir: string;
  logsDir: string;
  temporalLog: string;
  kafkaLog: string;
  /** The JVM's own stdout/stderr (start-up failures before log4j is configured). */
  kafkaStdoutLog: string;
  /** PostgreSQL server binaries (npm package installed here), data folder, superuser password, pid and log. */
  postgresDir: string;
  postgresData: string;
  postgresPasswordFile: string;
  postgresPid: string;
  postgresLog: string;
}

/**
 * Lays out the home folder. `notifyHome` (config NOTIFY_HOME) may be relative; it is then taken from the repo root.
 */
export function resolveInfraPaths(notifyHome?: string): InfraPaths {
  const home = resolveNotifyHome(notifyHome);
  const binDir = join(home, 'bin');
  const kafkaDir = join(home, 'kafka');
  const dataDir = join(home, 'data');
  const runDir = join(home, 'run');
  const logsDir = join(home, 'logs');
  return {
    home,
    binDir,
    temporalBin: join(binDir, 'temporal'),
    kafkaDir,
    kafkaPom: join(kafkaDir, 'pom.xml'),
    kafkaLib: join(kafkaDir, 'lib'),
    kafkaConfigDir: join(kafkaDir, 'config'),
    dataDir,
    temporalDb: join(dataDir, 'temporal.db'),
    kafkaData: join(dataDir, 'kafka'),
    kafkaFormatFile: join(dataDir, 'kafka-format.json'),
    runDir,
    temporalPid: join(runDir, 'temporal.pid'),
    kafkaPid: join(runDir, 'kafka.pid'),
    lockDir: join(runDir, 'infra.lock'),
    logsDir,
    temporalLog: join(logsDir, 'temporal.log'),
    kafkaLog: join(logsDir, 'kafka.log'),
    kafkaStdoutLog: join(logsDir, 'kafka.stdout.log'),
    postgresDir: join(home, 'postgres'),
    postgresData: join(dataDir, 'postgres'),
    postgresPasswordFile: join(home, 'postgres-password'),
    postgresPid: join(runDir, 'postgres.pid'),
    postgresLog: join(logsDir, 'postgres.log'),
  };
}
