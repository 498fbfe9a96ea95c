import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortFree } from '../process-harness/ports.js';

/** Where infrastructure helpers report progress; one human-readable line per call. */
export type InfraLog = (line: string) => void;

/** A failure of the embedded infrastructure whose message says what to do about it. */
export class InfraError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** Options of {@link spawnDetached}. */
export interface SpawnDetachedOptions {
  command: string;
  args: string[];
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  pidFile: string;
}

/**
 * Starts a long-running server in its own process group, detached from this process so it outlives the command
 * that started it (`npm run infra -- start` returns while the servers keep running). Its pid goes to `pidFile`.
 * Resolves once the process has been spawned (or rejects when the executable cannot be run).
 */
export async function spawnDetached(opts: SpawnDetachedOptions): Promise<number> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  mkdirSync(dirname(opts.pidFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  try {
    writeSync(fd, `\n=== ${new Date().toISOString()} starting: ${opts.command} ${opts.args.join(' ')}\n`);
    const child = spawn(opts.command, opts.args, { cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd] });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', (err) =>
        reject(new InfraError(`Cannot run ${opts.command}: ${err.message}`, { cause: err })),
      );
      child.once('spawn', () => resolvePid(child.pid ?? -1));
    });
    child.unref();
    writeFileSync(opts.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** The pid stored in a pid file, or undefined when the file is missing or garbled. */
export function readPidFile(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether `pid` is a live process (zombies, which `kill(pid, 0)` still reports, count as dead). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // `/proc/<pid>/stat` is "pid (comm) S ..."; comm may contain spaces, so read the state after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/**
 * Whether the process's command line contains `marker` (e.g. its db file): pid files can outlive their process and
 * the pid be reused by something else, which must then not be reported as ours, let alone be killed.
 */
export function processMatches(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    return isProcessAlive(pid);
  }
}

/** The pid of our live server recorded in `pidFile`; a stale pid file is removed and undefined returned. */
export function runningPid(pidFile: string, marker: string): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  if (isProcessAlive(pid) && processMatches(pid, marker)) return pid;
  rmSync(pidFile, { force: true });
  return undefined;
}

/** Result of starting a server (`startTemporal`, `startKafka`). */
export interface StartedServer {
  pid: number;
  /** False when a server of ours was already running and ready (nothing was started). */
  started: boolean;
}

/** Outcome of {@link stopProcess}. */
export type StopOutcome = 'not-running' | 'stopped' | 'killed';

/** Options of {@link stopProcess}. */
export interface StopProcessOptions {
  /** Only a process whose command line contains this is stopped (see {@link processMatches}). */
  marker: string;
  /** How long to wait after SIGTERM before SIGKILL. */
  timeoutMs?: number;
  name?: string;
  log?: InfraLog;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the whole detached process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(100);
  }
  return !isProcessAlive(pid);
}

/**
 * Stops the server recorded in `pidFile`: SIGTERM, wait up to `timeoutMs` (default 30 s, Kafka's controlled shutdown
 * takes a few seconds), then SIGKILL. Idempotent: a missing, stale or foreign pid is reported as `not-running` and
 * nothing is signalled. The pid file is removed.
 */
export async function stopProcess(pidFile: string, opts: StopProcessOptions): Promise<StopOutcome> {
  const pid = runningPid(pidFile, opts.marker);
  const name = opts.name ?? pidFile;
  if (pid === undefined) return 'not-running';
  opts.log?.(`stopping ${name} (pid ${pid})`);
  signalGroup(pid, 'SIGTERM');
  let outcome: StopOutcome = 'stopped';
  if (!(await waitForExit(pid, opts.timeoutMs ?? 30_000))) {
    opts.log?.(`${name} did not stop within ${opts.timeoutMs ?? 30_000} ms; sending SIGKILL`);
    signalGroup(pid, 'SIGKILL');
    if (!(await waitForExit(pid, 10_000))) throw new InfraError(`${name} (pid ${pid}) survived SIGKILL`);
    outcome = 'killed';
  }
  rmSync(pidFile, { force: true });
  return outcome;
}

/** Best effort "pid/name" of the process listening on a TCP port (via `ss`), for error messages. */
export function describePortOwner(port: number): string {
  const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const match = out.status === 0 ? /users:\(\("([^"]+)",pid=(\d+)/.exec(out.stdout) : null;
  return match ? `${match[1]} (pid ${match[2]})` : 'another process';
}

/**
 * Fails with a clear message when one of `ports` is taken: the embedded servers must not silently talk to (or
 * fight with) something else listening there.
 */
export async function assertPortsFree(
  ports: { port: number; setting: string }[],
  component: string,
  externalHint: string,
  lingerMs = 5_000,
): Promise<void> {
  for (const { port, setting } of ports) {
    // A server killed a moment ago can leave its port briefly unbindable (sockets in FIN-WAIT): give it a few seconds.
    const deadline = Date.now() + lingerMs;
    let free = await isPortFree(port);
    while (!free && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      free = await isPortFree(port);
    }
    if (!free) {
      throw new InfraError(
        `Cannot start ${component}: port ${port} (${setting}) is already in use by ${describePortOwner(port)}. ` +
          `Stop that process, set ${setting} to a free port, or ${externalHint}.`,
      );
    }
  }
}

/** Options of {@link runStreaming}. */
export interface RunStreamingOptions {
  cwd?: string;
  log: InfraLog;
  /** Prefix of forwarded output lines and progress messages. */
  label: string;
  /** A "still running" line with the elapsed time is printed this often (default 10 s). */
  heartbeatMs?: number;
  /** Output lines not worth forwarding (still kept for the failure message). */
  skipLine?: (line: string) => boolean;
  /** Run as this user and group (e.g. an unprivileged user for a server that refuses root). */
  spawnIds?: { uid: number; gid: number };
}

/**
 * Runs a (slow) build command to completion, forwarding its output line by line and printing a progress line with
 * the elapsed time every `heartbeatMs`, so a first-time install never looks hung. Rejects with the exit code and the
 * last output lines; rejects with `code: 'ENOENT'` on the error when the command is not installed.
 */
export async function runStreaming(command: string, args: string[], opts: RunStreamingOptions): Promise<void> {
  const started = Date.now();
  const tail: string[] = [];
  const child = spawn(command, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], ...opts.spawnIds });
  const timer = setInterval(() => {
    opts.log(`${opts.label}: still running (${Math.round((Date.now() - started) / 1000)} s elapsed)`);
  }, opts.heartbeatMs ?? 10_000);
  const forward = (chunk: Buffer, carry: { rest: string }): void => {
    const text = carry.rest + chunk.toString('utf8');
    const lines = text.split(/\r?\n/);
    carry.rest = lines.pop() ?? '';
    for (const raw of lines) {
      // eslint-disable-next-line no-control-regex -- strip ANSI colour codes some tools print even in batch mode
      const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (opts.skipLine?.(line) !== true) opts.log(`${opts.label}: ${line}`);
    }
  };
  const outCarry = { rest: '' };
  const errCarry = { rest: '' };
  child.stdout.on('data', (c: Buffer) => forward(c, outCarry));
  child.stderr.on('data', (c: Buffer) => forward(c, errCarry));
  try {
    const code = await new Promise<number | null>((resolveCode, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolveCode(c));
    });
    if (code !== 0) {
      throw new InfraError(
        `${opts.label} failed (exit code ${code}) after ${Math.round((Date.now() - started) / 1000)} s:\n${tail.join('\n')}`,
      );
    }
    opts.log(`${opts.label}: done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Builds `<module>@<version>` with `go install` into `binDir` (static, `CGO_ENABLED=0`), streaming go's output with a
 * progress line every 10 s, and returns the path of `binary` there; throws when go finished without it.
 */
export async function goInstall(opts: {
  module: string;
  version: string;
  binary: string;
  binDir: string;
  log: InfraLog;
  label: string;
  goCommand?: string;
}): Promise<string> {
  mkdirSync(opts.binDir, { recursive: true });
  // `env` adds GOBIN/CGO_ENABLED to the inherited environment (only src/config reads process.env).
  await runStreaming(
    'env',
    [
      'CGO_ENABLED=0',
      `GOBIN=${opts.binDir}`,
      opts.goCommand ?? 'go',
      'install',
      '-v',
      `${opts.module}@${opts.version}`,
    ],
    { log: opts.log, label: opts.label },
  );
  const built = join(opts.binDir, opts.binary);
  if (!existsSync(built)) throw new InfraError(`go install finished but ${built} is missing; check the output above.`);
  return built;
}

/** Whether `command` can be executed (it is on PATH or an existing executable path). */
export function commandWorks(command: string, args: string[]): { ok: boolean; stdout: string } {
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { ok: out.error === undefined && out.status === 0, stdout: `${out.stdout ?? ''}${out.stderr ?? ''}` };
}

/** The last `lines` lines of a log file ('' when missing), appended to start-up errors. */
export function tailFile(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between attempts: throw to stop waiting early (e.g. the server process died). */
  abortIf?: () => void;
}

/**
 * Retries `probe` until it resolves or `timeoutMs` passes; then rejects with the last probe error. Used by the
 * readiness waiters.
 */
export async function waitUntil<T>(probe: () => Promise<T>, opts: WaitUntilOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.abortIf?.();
    try {
      return await probe();
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(opts.intervalMs ?? 250);
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/**
 * Runs `fn` while holding a lock directory, so two commands (`npm start` and `npm test`, say) never install or start
 * the same servers at once. A lock left by a dead process is taken over.
 */
export async function withLock<T>(
  lockDir: string,
  log: InfraLog,
  fn: () => Promise<T>,
  timeoutMs = 15 * 60_000,
): Promise<T> {
  mkdirSync(dirname(lockDir), { recursive: true });
  const ownerFile = `${lockDir}/owner`;
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  let ownerlessSince: number | undefined;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(ownerFile, `${process.pid}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readPidFile(ownerFile);
    if (owner !== undefined && !isProcessAlive(owner)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (owner === undefined) {
      // Its owner may not have written its pid yet; a lock that stays ownerless was abandoned mid-creation.
      ownerlessSince ??= Date.now();
      if (Date.now() - ownerlessSince > 2_000) {
        rmSync(lockDir, { recursive: true, force: true });
        ownerlessSince = undefined;
        continue;
      }
    } else if (!announced) {
      log(`waiting for another notify process (pid ${owner}) that is installing/starting the infrastructure`);
      announced = true;
    }
    if (Date.now() > deadline) {
      throw new InfraError(
        `Timed out waiting for the infrastructure lock ${lockDir} (held by pid ${owner ?? 'unknown'}); remove it if that process is stuck.`,
      );
    }
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
