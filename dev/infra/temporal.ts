import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/shared/notification.js';
import type { InfraLog, StartedServer, StopOutcome } from './process.js';
import {
  assertPortsFree,
  commandWorks,
  goInstall,
  InfraError,
  isProcessAlive,
  runningPid,
  spawnDetached,
  stopProcess,
  tailFile,
  waitUntil,
} from './process.js';

/** The Temporal CLI release built by `go install` (later tags carry a `replace` directive that `go install` rejects). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** Options of {@link ensureTemporalCli}. */
export interface EnsureTemporalCliOptions {
  /** Config TEMPORAL_CLI_PATH: used as is when set. */
  cliPath?: string;
  /** Where `go install` puts the binary (`.notify/bin`). */
  binDir: string;
  log: InfraLog;
  /** Command name looked up on PATH (default `temporal`); tests override it. */
  pathCommand?: string;
  /** The Go tool (default `go` on PATH). */
  goCommand?: string;
}

/**
 * Finds or builds the Temporal CLI and returns the command to run: TEMPORAL_CLI_PATH if set, else a `temporal` on
 * PATH, else the cached `<binDir>/temporal`, else builds it with `go install` (about 2.5 min on 2 cores with a warm
 * module cache), streaming go's output and a progress line every 10 s.
 */
export async function ensureTemporalCli(opts: EnsureTemporalCliOptions): Promise<string> {
  if (opts.cliPath !== undefined) {
    if (!commandWorks(opts.cliPath, ['--version']).ok) {
      throw new InfraError(
        `TEMPORAL_CLI_PATH=${opts.cliPath} does not run ("${opts.cliPath} --version" failed); point it at a Temporal CLI binary or unset it.`,
      );
    }
    return opts.cliPath;
  }
  const pathCommand = opts.pathCommand ?? 'temporal';
  if (commandWorks(pathCommand, ['--version']).ok) return pathCommand;
  const cached = `${opts.binDir}/temporal`;
  if (existsSync(cached) && commandWorks(cached, ['--version']).ok) return cached;

  const go = opts.goCommand ?? 'go';
  const goVersion = commandWorks(go, ['version']);
  if (!goVersion.ok) {
    throw new InfraError(
      'Go not found: install Go ≥1.25, or put the temporal CLI on PATH / set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to an existing server',
    );
  }
  const m = /go(\d+)\.(\d+)/.exec(goVersion.stdout);
  if (m && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 25))) {
    opts.log(
      `warning: ${goVersion.stdout.trim()} is older than Go 1.25; go will try to download a newer toolchain (GOTOOLCHAIN=auto)`,
    );
  }
  opts.log(
    `building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${opts.binDir} (first run only; a few minutes on 2 cores)`,
  );
  return goInstall({
    module: TEMPORAL_CLI_MODULE,
    version: TEMPORAL_CLI_VERSION,
    binary: 'temporal',
    binDir: opts.binDir,
    log: opts.log,
    label: 'go install temporal',
    goCommand: go,
  });
}

/** Everything needed to run one Temporal dev server; a test can run a private second one on other ports. */
export interface TemporalServerOptions {
  /** The CLI to run (see {@link ensureTemporalCli}). */
  cli: string;
  port: number;
  uiPort: number;
  /** SQLite file: all state (workflows, namespaces, search attributes) lives there and survives restarts. */
  dbFile: string;
  namespace: string;
  /** `key=value` SQLite pragmas (config TEMPORAL_SQLITE_PRAGMAS). */
  sqlitePragmas: string[];
  logFile: string;
  pidFile: string;
  /** Default `warn`. */
  logLevel?: string;
  /** Codec server the Web UI uses to show decrypted payloads (`--ui-codec-endpoint`; the gateway's `/codec`). */
  uiCodecEndpoint?: string;
  /** Readiness timeout (default 60 s). */
  readyTimeoutMs?: number;
}

/** The `temporal server start-dev` arguments for these options (pure; unit-tested). */
export function temporalServerArgs(opts: Omit<TemporalServerOptions, 'cli' | 'logFile' | 'pidFile'>): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--db-filename',
    opts.dbFile,
    '--namespace',
    opts.namespace,
  ];
  for (const attr of Object.values(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${attr.name}=${attr.type}`);
  for (const pragma of opts.sqlitePragmas) args.push('--sqlite-pragma', pragma);
  if (opts.uiCodecEndpoint !== undefined) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  args.push(
    '--dynamic-config-value',
    'frontend.activityAPIsEnabled=true',
    '--dynamic-config-value',
    'system.enableEagerWorkflowStart=true',
    '--log-level',
    opts.logLevel ?? 'warn',
  );
  return args;
}

/** `127.0.0.1:<port>`: the frontend address clients and workers connect to. */
export function temporalAddressFor(port: number): string {
  return `127.0.0.1:${port}`;
}

/**
 * Resolves once the Temporal frontend at `address` answers and `namespace` is registered; rejects after `timeoutMs`
 * with the last error. `abortIf` may throw to stop early (the server process died).
 */
export async function waitForTemporal(
  address: string,
  namespace: string,
  timeoutMs: number,
  abortIf?: () => void,
): Promise<void> {
  await waitUntil(
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await connection.withDeadline(Date.now() + 3_000, () =>
          connection.workflowService.describeNamespace({ namespace }),
        );
      } finally {
        await connection.close();
      }
    },
    { timeoutMs, intervalMs: 500, abortIf },
  );
}

/**
 * Starts a Temporal dev server detached (pid file, log file) and waits until it is ready. Idempotent: when our
 * server for this db file is already running it only waits for readiness. A port taken by anything else is a clear
 * error. Persistent: restarting on the same `dbFile` keeps workflows, namespaces and search attributes.
 */
export async function startTemporal(opts: TemporalServerOptions, log: InfraLog): Promise<StartedServer> {
  const address = temporalAddressFor(opts.port);
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  const existing = runningPid(opts.pidFile, opts.dbFile);
  if (existing !== undefined) {
    await waitForTemporal(address, opts.namespace, timeoutMs).catch((err: unknown) => {
      throw new InfraError(
        `Temporal (pid ${existing}) is running but not ready on ${address}: ${String(err)}. See ${opts.logFile}.`,
      );
    });
    return { pid: existing, started: false };
  }
  await assertPortsFree(
    [
      { port: opts.port, setting: 'TEMPORAL_PORT' },
      { port: opts.uiPort, setting: 'TEMPORAL_UI_PORT' },
    ],
    'the Temporal dev server',
    `set TEMPORAL_ADDRESS=${address} if it is a Temporal server you want to use`,
  );
  mkdirSync(dirname(opts.dbFile), { recursive: true });
  const args = temporalServerArgs(opts);
  log(`starting Temporal dev server on ${address} (db ${opts.dbFile}, log ${opts.logFile})`);
  const pid = await spawnDetached({
    command: opts.cli,
    args,
    cwd: dirname(opts.dbFile),
    logFile: opts.logFile,
    pidFile: opts.pidFile,
  });
  try {
    await waitForTemporal(address, opts.namespace, timeoutMs, () => {
      if (!isProcessAlive(pid))
        throw new InfraError(
          `Temporal dev server exited during start-up. Last lines of ${opts.logFile}:\n${tailFile(opts.logFile)}`,
        );
    });
  } catch (err) {
    await stopProcess(opts.pidFile, { marker: opts.dbFile, name: 'temporal', timeoutMs: 5_000 });
    if (err instanceof InfraError) throw err;
    throw new InfraError(
      `Temporal dev server did not become ready on ${address} within ${timeoutMs} ms: ${String(err)}. See ${opts.logFile}.`,
      { cause: err },
    );
  }
  return { pid, started: true };
}

/** Stops the Temporal dev server recorded in `pidFile` for `dbFile` (SIGTERM, then SIGKILL after 15 s). */
export async function stopTemporal(
  opts: Pick<TemporalServerOptions, 'pidFile' | 'dbFile'>,
  log?: InfraLog,
): Promise<StopOutcome> {
  return stopProcess(opts.pidFile, { marker: opts.dbFile, name: 'temporal', timeoutMs: 15_000, log });
}
