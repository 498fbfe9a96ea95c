import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import type { InfraLog, StartedServer, StopOutcome } from '../process.js';
import {
  assertPortsFree,
  commandWorks,
  InfraError,
  isProcessAlive,
  runningPid,
  runStreaming,
  spawnDetached,
  stopProcess,
  tailFile,
} from '../process.js';
import { waitForTemporalHealth } from '../../../src/temporal/namespace-setup.js';

/**
 * The real Temporal server (not the CLI dev server), built by `go install`: the same server version the CLI v1.5.1
 * bundles, so workflows behave the same on both topologies. Its go.mod has no `replace` directive.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_MODULE = 'go.temporal.io/server';

/** The Temporal Web UI server (github.com/temporalio/ui-server), the same release the CLI v1.5.1 embeds. */
export const TEMPORAL_UI_VERSION = 'v2.42.1';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

/** Where the server binaries and their schema files are cached (`.notify/temporal-server`). */
export interface TemporalServerInstall {
  /** `temporal-ui-server` binary (optional: the cluster runs without a Web UI when it could not be built). */
  uiServer: string;
  /** `temporal-server` binary. */
  server: string;
  /** `temporal-sql-tool` binary (creates and migrates the schemas). */
  sqlTool: string;
  /** `schema/postgresql/v12` of the server module: `temporal/versioned` and `visibility/versioned`. */
  schemaDir: string;
}

/** The cached install under `dir` (paths only; see {@link ensureTemporalServer}). */
export function temporalServerInstall(dir: string): TemporalServerInstall {
  return {
    server: join(dir, 'bin', 'temporal-server'),
    uiServer: join(dir, 'bin', 'temporal-ui-server'),
    sqlTool: join(dir, 'bin', 'temporal-sql-tool'),
    schemaDir: join(dir, 'schema', 'postgresql', 'v12'),
  };
}

function markerFile(dir: string): string {
  return join(dir, `installed-${TEMPORAL_SERVER_VERSION}`);
}

/** Whether the server, its sql tool and schema are cached under `dir`. */
export function temporalServerInstalled(dir: string): boolean {
  const install = temporalServerInstall(dir);
  return (
    existsSync(markerFile(dir)) &&
    existsSync(install.server) &&
    existsSync(install.sqlTool) &&
    existsSync(install.schemaDir)
  );
}

function makeWritable(path: string): void {
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/**
 * Finds or builds the Temporal server and `temporal-sql-tool` (`go install …@v1.29.1`, both from one module, with
 * go's output and a progress line every 10 s) and copies the PostgreSQL schema files out of the Go module cache, so
 * the install does not depend on the cache staying around. Cached under `dir`; later calls return at once.
 */
export async function ensureTemporalServer(opts: {
  dir: string;
  log: InfraLog;
  goCommand?: string;
}): Promise<TemporalServerInstall> {
  const install = temporalServerInstall(opts.dir);
  if (temporalServerInstalled(opts.dir)) return install;
  const go = opts.goCommand ?? 'go';
  if (!commandWorks(go, ['version']).ok) {
    throw new InfraError(
      'Go not found: install Go ≥ 1.25 to build the Temporal server for the cluster topology, or point TEMPORAL_ADDRESS at your own Temporal cluster.',
    );
  }
  const binDir = join(opts.dir, 'bin');
  const buildDir = join(opts.dir, 'build');
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  opts.log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool with go install into ${binDir} (first run only; several minutes on 2 cores)`,
  );
  await runStreaming(
    'env',
    [
      'CGO_ENABLED=0',
      `GOBIN=${buildDir}`,
      go,
      'install',
      '-v',
      `${SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
      `${SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
    ],
    { log: opts.log, label: 'go install temporal-server' },
  );
  // `go install` names binaries after their package folder: `server` and `sql`.
  renameSync(join(buildDir, 'server'), install.server);
  renameSync(join(buildDir, 'sql'), install.sqlTool);
  rmSync(buildDir, { recursive: true, force: true });
  const modCache = commandWorks(go, ['env', 'GOMODCACHE']).stdout.trim();
  const source = join(modCache, `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  if (!existsSync(source))
    throw new InfraError(`go install finished but the schema files are not in ${source}; check GOMODCACHE.`);
  rmSync(install.schemaDir, { recursive: true, force: true });
  cpSync(source, install.schemaDir, { recursive: true });
  makeWritable(install.schemaDir); // the module cache is read-only
  writeFileSync(markerFile(opts.dir), `${new Date().toISOString()}\n`);
  opts.log(`Temporal server ${TEMPORAL_SERVER_VERSION} installed under ${opts.dir}`);
  return install;
}

/**
 * Builds the Temporal Web UI server once (`go install …/ui-server/v2/cmd/server@v2.42.1`; its assets are embedded in
 * the Go module, so it works offline). Returns false, after saying so, when it cannot be built: the UI is a
 * convenience, the cluster works without it.
 */
export async function ensureTemporalUi(opts: { dir: string; log: InfraLog; goCommand?: string }): Promise<boolean> {
  const install = temporalServerInstall(opts.dir);
  const marker = join(opts.dir, `installed-ui-${TEMPORAL_UI_VERSION}`);
  if (existsSync(marker) && existsSync(install.uiServer)) return true;
  const go = opts.goCommand ?? 'go';
  const buildDir = join(opts.dir, 'build-ui');
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  mkdirSync(join(opts.dir, 'bin'), { recursive: true });
  opts.log(`building the Temporal Web UI server ${TEMPORAL_UI_VERSION} with go install (first run only)`);
  try {
    await runStreaming(
      'env',
      ['CGO_ENABLED=0', `GOBIN=${buildDir}`, go, 'install', '-v', `${UI_MODULE}/cmd/server@${TEMPORAL_UI_VERSION}`],
      { log: opts.log, label: 'go install temporal-ui-server' },
    );
    renameSync(join(buildDir, 'server'), install.uiServer);
    writeFileSync(marker, `${new Date().toISOString()}\n`);
    return true;
  } catch (err) {
    opts.log(
      `WARNING: the Temporal Web UI could not be built (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the cluster runs without a Web UI`,
    );
    return false;
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
}

/** The Web UI server's config (pure): the frontend it talks to, where it listens, the namespace it opens. */
export function temporalUiConfig(opts: {
  temporalAddress: string;
  port: number;
  namespace: string;
  codecEndpoint?: string;
}): Record<string, unknown> {
  return {
    temporalGrpcAddress: opts.temporalAddress,
    host: '127.0.0.1',
    port: opts.port,
    enableUi: true,
    defaultNamespace: opts.namespace,
    cors: { cookieInsecure: true },
    ...(opts.codecEndpoint !== undefined ? { codec: { endpoint: opts.codecEndpoint } } : {}),
  };
}

/** Starts the Web UI server detached (config in `configDir/ui.yaml`), unless ours is running; waits for HTTP 200. */
export async function startTemporalUi(
  opts: {
    install: TemporalServerInstall;
    configDir: string;
    logFile: string;
    pidFile: string;
    temporalAddress: string;
    port: number;
    namespace: string;
    codecEndpoint?: string;
  },
  log: InfraLog,
): Promise<void> {
  if (runningPid(opts.pidFile, opts.configDir) !== undefined) return;
  await assertPortsFree(
    [{ port: opts.port, setting: 'the Temporal Web UI port (CLUSTER_PORT_BASE+51)' }],
    'the Temporal Web UI',
    'pick another CLUSTER_PORT_BASE',
  );
  mkdirSync(opts.configDir, { recursive: true });
  writeFileSync(
    join(opts.configDir, 'ui.yaml'),
    `# Generated by dev/infra/cluster/temporal-server.ts at every start.\n${stringify(temporalUiConfig(opts))}`,
  );
  const pid = await spawnDetached({
    command: opts.install.uiServer,
    args: ['--root', '/', '--config', opts.configDir, '--env', 'ui', 'start'],
    cwd: opts.configDir,
    logFile: opts.logFile,
    pidFile: opts.pidFile,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!isProcessAlive(pid))
      throw new InfraError(
        `The Temporal Web UI exited during start-up. Last lines of ${opts.logFile}:\n${tailFile(opts.logFile)}`,
      );
    const up = await fetch(`http://127.0.0.1:${opts.port}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline)
      throw new InfraError(`The Temporal Web UI did not answer on port ${opts.port} within 30 s; see ${opts.logFile}.`);
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`Temporal Web UI on http://127.0.0.1:${opts.port}`);
}

/** How the Temporal nodes reach PostgreSQL. */
export interface TemporalDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Persistence (history, executions, shards, membership): default `temporal`. */
  database: string;
  /** SQL visibility (workflow lists, search attributes): default `temporal_visibility`. */
  visibilityDatabase: string;
}

/** The ports of one Temporal server process (all four services: frontend, history, matching, worker). */
export interface TemporalNodePorts {
  frontend: number;
  frontendMembership: number;
  frontendHttp: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** One Temporal server process of the cluster: its own loopback address (bind and broadcast) and ports. */
export interface TemporalNodeSpec {
  name: string;
  /** 127.0.0.x: bound by every service of the node and broadcast to the others through the membership ring. */
  ip: string;
  ports: TemporalNodePorts;
}

/** Settings shared by every node: they must be identical across the cluster. */
export interface TemporalClusterSettings {
  db: TemporalDatabase;
  /**
   * History shards: fixed when the cluster's database is first set up, never changeable afterwards (a different value
   * is refused at start). Shards are the unit of history ownership that moves to a surviving node.
   */
  numHistoryShards: number;
  /** Dynamic config file (YAML) all nodes read. */
  dynamicConfigFile: string;
  logLevel?: string;
}

/**
 * The server configuration of one node (pure; unit-tested): persistence and visibility on PostgreSQL
 * (`postgres12` plugin), membership through the shared database (each node broadcasts its own 127.0.0.x), the
 * node's system worker and cluster metadata pointing at its own frontend.
 */
export function temporalNodeConfig(node: TemporalNodeSpec, settings: TemporalClusterSettings): Record<string, unknown> {
  const sql = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${settings.db.host}:${settings.db.port}`,
      connectProtocol: 'tcp',
      user: settings.db.user,
      password: settings.db.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: node.ip, ...extra },
  });
  const frontendAddress = `${node.ip}:${node.ports.frontend}`;
  return {
    log: { stdout: true, level: settings.logLevel ?? 'warn', format: 'json' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: settings.numHistoryShards,
      // Pools are per service: each node opens up to 4 × (10 + 5) connections (see max_connections in cluster.ts).
      datastores: {
        'postgres-default': sql(settings.db.database, 10),
        'postgres-visibility': sql(settings.db.visibilityDatabase, 5),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: node.ip } },
    services: {
      frontend: rpc(node.ports.frontend, node.ports.frontendMembership, { httpPort: node.ports.frontendHttp }),
      history: rpc(node.ports.history, node.ports.historyMembership),
      matching: rpc(node.ports.matching, node.ports.matchingMembership),
      worker: rpc(node.ports.worker, node.ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: frontendAddress },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    publicClient: { hostPort: frontendAddress },
    dynamicConfigClient: { filepath: settings.dynamicConfigFile, pollInterval: '10s' },
  };
}

/**
 * Dynamic config shared by the nodes (pure): the same server features the dev server gets (activity pause APIs,
 * eager workflow start), and a short namespace-cache refresh so a namespace registered at start is usable quickly.
 */
export function temporalDynamicConfig(): string {
  const entries: Record<string, unknown> = {
    'frontend.activityAPIsEnabled': [{ value: true }],
    'system.enableEagerWorkflowStart': [{ value: true }],
    'frontend.enableUpdateWorkflowExecution': [{ value: true }],
  };
  return `# Generated by dev/infra/cluster/temporal-server.ts at every start.\n${stringify(entries)}`;
}

/** `temporal-sql-tool` arguments addressing one database. */
function sqlToolArgs(db: TemporalDatabase, database: string): string[] {
  return [
    '--plugin',
    'postgres12',
    '--ep',
    db.host,
    '-p',
    String(db.port),
    '-u',
    db.user,
    '--pw',
    db.password,
    '--db',
    database,
  ];
}

async function hasSchema(db: TemporalDatabase, database: string): Promise<boolean> {
  const client = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database });
  await client.connect();
  try {
    const result = await client.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'");
    return (result.rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

async function databaseExists(db: TemporalDatabase, database: string): Promise<boolean> {
  const client = new pg.Client({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    return ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

/**
 * Creates the persistence and visibility databases (first run) and brings both schemas to the version this server
 * ships, with `temporal-sql-tool` (`create-database`, `setup-schema -v 0.0`, `update-schema -d <versioned>`), as
 * Temporal's own deployment does. Idempotent: an up-to-date schema is left as is; an older one is migrated.
 */
export async function migrateTemporalSchemas(
  install: TemporalServerInstall,
  db: TemporalDatabase,
  log: InfraLog,
): Promise<void> {
  for (const [database, folder] of [
    [db.database, 'temporal'],
    [db.visibilityDatabase, 'visibility'],
  ] as const) {
    const run = (args: string[], label: string) =>
      runStreaming(install.sqlTool, [...sqlToolArgs(db, database), ...args], {
        log,
        label,
        skipLine: (l) => !/error|fail/i.test(l),
      });
    if (!(await databaseExists(db, database))) await run(['create-database'], `sql-tool create ${database}`);
    if (!(await hasSchema(db, database))) await run(['setup-schema', '-v', '0.0'], `sql-tool setup ${database}`);
    await run(['update-schema', '-d', join(install.schemaDir, folder, 'versioned')], `sql-tool update ${database}`);
  }
}

/** What starting one node needs. */
export interface TemporalNodeOptions {
  install: TemporalServerInstall;
  node: TemporalNodeSpec;
  settings: TemporalClusterSettings;
  /** The node's config folder (`<dir>/node.yaml`), also the marker that identifies its process. */
  configDir: string;
  logFile: string;
  pidFile: string;
  readyTimeoutMs?: number;
}

/** The node's frontend address (`ip:port`). */
export function temporalNodeAddress(node: TemporalNodeSpec): string {
  return `${node.ip}:${node.ports.frontend}`;
}

/**
 * Writes the node's config and starts it detached (pid file, log file); resolves once its frontend reports SERVING.
 * Idempotent: a running node of ours is only waited for.
 */
export async function startTemporalNode(opts: TemporalNodeOptions, log: InfraLog): Promise<StartedServer> {
  const address = temporalNodeAddress(opts.node);
  const timeoutMs = opts.readyTimeoutMs ?? 120_000;
  const existing = runningPid(opts.pidFile, opts.configDir);
  if (existing !== undefined) {
    await waitForTemporalHealth(address, timeoutMs);
    return { pid: existing, started: false };
  }
  const p: Record<string, number> = { ...opts.node.ports };
  await assertPortsFree(
    Object.entries(p).map(([name, port]) => ({ port, setting: `${opts.node.name} ${name} port (CLUSTER_PORT_BASE)` })),
    `Temporal ${opts.node.name}`,
    'pick another CLUSTER_PORT_BASE',
  );
  mkdirSync(opts.configDir, { recursive: true });
  writeFileSync(
    join(opts.configDir, 'node.yaml'),
    `# Generated by dev/infra/cluster/temporal-server.ts at every start.\n${stringify(temporalNodeConfig(opts.node, opts.settings))}`,
  );
  log(`starting Temporal server ${opts.node.name} on ${address} (log ${opts.logFile})`);
  const pid = await spawnDetached({
    command: opts.install.server,
    args: ['--root', '/', '--config', opts.configDir, '--env', 'node', '--allow-no-auth', 'start'],
    cwd: opts.configDir,
    logFile: opts.logFile,
    pidFile: opts.pidFile,
  });
  try {
    await waitForTemporalHealth(address, timeoutMs, () => {
      if (!isProcessAlive(pid))
        throw new InfraError(
          `Temporal server ${opts.node.name} exited during start-up. Last lines of ${opts.logFile}:\n${tailFile(opts.logFile)}`,
        );
    });
  } catch (err) {
    await stopTemporalNode(opts);
    if (err instanceof InfraError) throw err;
    throw new InfraError(
      `Temporal server ${opts.node.name} did not become ready on ${address} within ${timeoutMs} ms: ${String(err)}. See ${opts.logFile}.`,
      { cause: err },
    );
  }
  return { pid, started: true };
}

/** Stops one node (SIGTERM: it hands its shards over; SIGKILL after 20 s). */
export function stopTemporalNode(
  opts: Pick<TemporalNodeOptions, 'pidFile' | 'configDir' | 'node'>,
  log?: InfraLog,
): Promise<StopOutcome> {
  return stopProcess(opts.pidFile, {
    marker: opts.configDir,
    name: `temporal ${opts.node.name}`,
    timeoutMs: 20_000,
    log,
  });
}
