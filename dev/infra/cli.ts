/**
 * `npm run infra -- <install|start|stop|status|wipe> [--all]`: manage the local Temporal dev server, Kafka and PostgreSQL under
 * NOTIFY_HOME (`.notify/`). Servers started here keep running after the command returns; `stop` ends them.
 */
import { loadConfig } from '../../src/config/config.js';
import { ensureKafkaJars } from './kafka.js';
import type { ComponentStatus } from './infra.js';
import { ensureInfra, infraStatus, stopInfra, wipeInfra } from './infra.js';
import { resolveInfraPaths } from './paths.js';
import { ensurePostgresBinaries } from './postgres.js';
import { ensureTemporalCli } from './temporal.js';
import {
  clusterTopologyStatus,
  ensureCluster,
  installCluster,
  parseTopology,
  stopClusterTopology,
  wipeClusterTopology,
} from './cluster/index.js';

const USAGE = `Usage: npm run infra -- <command> [--topology embedded|cluster]

  install        build/download the Temporal CLI, the Kafka jars and the PostgreSQL binaries (first run of start does it too)
  start          start the Temporal dev server, Kafka and PostgreSQL (reuses running ones), wait until ready
  stop           stop them (SIGTERM, then SIGKILL)
  status         show each component: installed, running (pid), address, ready
  wipe [--all]   stop and delete local data; --all also deletes the cached CLI and jars

Settings (environment): NOTIFY_HOME, TEMPORAL_PORT, TEMPORAL_UI_PORT, TEMPORAL_NAMESPACE, TEMPORAL_CLI_PATH,
TEMPORAL_SQLITE_PRAGMAS, KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_HEAP, KAFKA_VERSION, POSTGRES_PORT; KAFKA_BROKERS /
TEMPORAL_ADDRESS / DATABASE_URL select existing servers instead.

--topology cluster: 3 Kafka brokers (RF 3, min ISR 2), PostgreSQL, 2 Temporal server processes on it behind a
load balancer, under NOTIFY_HOME/cluster. Settings: CLUSTER_PORT_BASE (default 22700), CLUSTER_KAFKA_HEAP,
TEMPORAL_HISTORY_SHARDS (fixed at first start), TEMPORAL_NAMESPACE, TEMPORAL_RETENTION_HOURS.`;

const log = (line: string): void => console.log(`[infra] ${line}`);

function formatStatus(s: ComponentStatus): string {
  const parts = [
    s.name.padEnd(9),
    s.mode.padEnd(9),
    s.installed === undefined ? '' : s.installed ? 'installed' : 'not installed',
    s.mode === 'embedded' ? (s.running ? `running (pid ${s.pid})` : 'stopped') : '',
    s.address,
    s.ready ? 'ready' : 'not ready',
  ];
  return parts.filter((p) => p !== '').join('  ');
}

async function main(args: string[]): Promise<number> {
  const { topology, rest: argv } = parseTopology(args);
  const command = argv[0];
  const flags = new Set(argv.slice(1));
  const unknown = [...flags].filter((f) => f !== '--all');
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (unknown.length > 0 || (flags.has('--all') && command !== 'wipe')) {
    console.error(`Unknown option(s) for "${command}": ${unknown.join(' ') || '--all'}\n\n${USAGE}`);
    return 1;
  }
  const config = loadConfig();
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  if (topology === 'cluster') return cluster(command, config, flags.has('--all'));
  switch (command) {
    case 'install': {
      await Promise.all([
        config.KAFKA_BROKERS
          ? undefined
          : ensureKafkaJars({
              kafkaVersion: config.KAFKA_VERSION,
              kafkaDir: paths.kafkaDir,
              libDir: paths.kafkaLib,
              log,
            }),
        config.TEMPORAL_ADDRESS
          ? undefined
          : ensureTemporalCli({ cliPath: config.TEMPORAL_CLI_PATH, binDir: paths.binDir, log }).then((cli) =>
              log(`Temporal CLI: ${cli}`),
            ),
        config.DATABASE_URL
          ? undefined
          : ensurePostgresBinaries({ dir: paths.postgresDir, log }).then((bin) => log(`PostgreSQL: ${bin}`)),
      ]);
      log(`installed under ${paths.home}`);
      return 0;
    }
    case 'start': {
      const infra = await ensureInfra(config, { log, keepRunning: true });
      log(`Kafka brokers:   ${infra.kafkaBrokers.join(',')}`);
      log(`Temporal:        ${infra.temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`);
      log(
        `PostgreSQL:      ${config.DATABASE_URL !== undefined ? 'DATABASE_URL' : `127.0.0.1:${config.POSTGRES_PORT} (database notify)`}`,
      );
      log('servers keep running; stop them with: npm run infra -- stop');
      return 0;
    }
    case 'stop': {
      const result = await stopInfra(config, { log });
      log(`kafka: ${result.kafka}, temporal: ${result.temporal}, postgres: ${result.postgres}`);
      return 0;
    }
    case 'status': {
      const statuses = await infraStatus(config);
      for (const s of statuses) console.log(formatStatus(s));
      console.log(`home: ${paths.home}`);
      return statuses.every((s) => s.ready) ? 0 : 3;
    }
    case 'wipe': {
      const removed = await wipeInfra(config, { log, all: flags.has('--all') });
      log(removed.length === 0 ? 'nothing to remove' : `removed ${removed.length} folder(s)`);
      return 0;
    }
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 1;
  }
}

async function cluster(command: string, config: ReturnType<typeof loadConfig>, all: boolean): Promise<number> {
  switch (command) {
    case 'install': {
      await installCluster(config, log);
      log('cluster topology installed');
      return 0;
    }
    case 'start': {
      const started = Date.now();
      const running = await ensureCluster(config, { log, keepRunning: true });
      log(`Kafka brokers:   ${running.kafkaBrokers.join(',')}`);
      log(
        `Temporal:        ${running.temporalAddress} (load balancer over ${running.options.layout.temporalNodes.length} server processes; namespace ${config.TEMPORAL_NAMESPACE})`,
      );
      log(
        `PostgreSQL:      127.0.0.1:${running.options.layout.postgresPort} (databases temporal, temporal_visibility)`,
      );
      log(`Temporal Web UI: ${running.temporalUiUrl ?? 'not installed (the ui-server could not be built)'}`);
      log(
        `ready in ${Math.round((Date.now() - started) / 1000)} s; servers keep running; stop them with: npm run infra -- stop --topology cluster`,
      );
      log(
        `use it: KAFKA_BROKERS=${running.kafkaBrokers.join(',')} TEMPORAL_ADDRESS=${running.temporalAddress}, or npm start -- --topology cluster`,
      );
      return 0;
    }
    case 'stop': {
      const result = await stopClusterTopology(config, log);
      log(
        Object.entries(result)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', '),
      );
      return 0;
    }
    case 'status': {
      const status = await clusterTopologyStatus(config);
      console.log(`temporal-server ${status.installed ? 'installed' : 'not installed'}`);
      for (const c of status.components) {
        console.log(
          [
            c.name.padEnd(15),
            c.pid !== undefined ? `running (pid ${c.pid})`.padEnd(22) : 'stopped'.padEnd(22),
            c.address.padEnd(18),
            c.ready ? 'ready' : 'not ready',
          ].join('  '),
        );
      }
      return status.components.every((c) => c.ready) ? 0 : 3;
    }
    case 'wipe': {
      if (all)
        throw new Error(
          '--all is not supported with --topology cluster (the installed pieces are shared with the embedded topology); use wipe --all without --topology',
        );
      const removed = await wipeClusterTopology(config, log);
      log(removed ? 'cluster data removed' : 'nothing to remove');
      return 0;
    }
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[infra] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
