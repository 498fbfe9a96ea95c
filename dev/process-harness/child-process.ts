import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { GATEWAY_ENTRY, GATEWAY_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { repoRoot } from '../../src/runtime/notify-home.js';

/** How to run one TypeScript entry point as a child process (`node --import tsx <entry> ...args`). */
export interface EntrySpec {
  /** Label used in error messages. */
  name: string;
  /** Entry point, relative to `cwd`. */
  entry: string;
  args?: string[];
  /** Node flags placed before `--import tsx` (e.g. `--cpu-prof` for a profile). */
  nodeArgs?: string[];
  /**
   * Whether the entry point gets the Node flags it ships with (the gateway's {@link GATEWAY_NODE_FLAGS}), before
   * `nodeArgs`. True by default, so every tool runs the service as it is deployed; false for a bench baseline.
   */
  serviceFlags?: boolean;
  /** The child's complete environment. */
  env: NodeJS.ProcessEnv;
  /** Working directory; the repository root by default. */
  cwd?: string;
  /** stdout and stderr are appended to this file (created with its folder). */
  logFile?: string;
  /** Called with every output line (stdout and stderr), e.g. to echo it with a prefix. */
  onLine?: (line: string) => void;
  /** Keep at most this many characters of output in memory (the most recent); unlimited by default. */
  outputLimit?: number;
  /** Own process group, so a Ctrl-C in the terminal reaches only the parent (which then stops children in order). */
  detached?: boolean;
}

/** How a child ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running entry point: its output, and ways to wait for, signal and reap it. */
export interface ChildHandle {
  name: string;
  /** The pid (-1 if the spawn failed). */
  pid: number;
  child: ChildProcess;
  /** Output written so far (stdout and stderr interleaved; the most recent `outputLimit` characters). */
  output(): string;
  /** Parsed JSON log lines (pino) in `output()`; other lines are skipped. */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the first output line matching `pattern` (already written or not); rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resolves when the process exited. */
  exited: Promise<ChildExit>;
  /** Sends a signal (no-op once exited). */
  kill(signal: NodeJS.Signals): void;
  /**
   * Sends `signal` (SIGTERM by default), then SIGKILL after `graceMs`; resolves once the process is gone, saying how
   * long it took and whether SIGKILL was needed. Safe to call on an exited process.
   */
  stop(options?: {
    signal?: NodeJS.Signals;
    graceMs?: number;
  }): Promise<ChildExit & { tookMs: number; escalated: boolean }>;
}

/** Escapes a literal for use in a RegExp (ready lines given as plain text). */
export function literalPattern(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

/** The Node flags an entry point ships with (see {@link EntrySpec.serviceFlags}); none for other entry points. */
export function serviceNodeFlags(spec: Pick<EntrySpec, 'entry' | 'serviceFlags'>): readonly string[] {
  if (spec.serviceFlags === false) return [];
  return spec.entry.replaceAll('\\', '/').endsWith(GATEWAY_ENTRY) ? GATEWAY_NODE_FLAGS : [];
}

/**
 * The one child-process harness of the tooling (`npm start`'s supervisor, chaos, bench, scenario tests): spawns a
 * tsx entry point, captures and optionally logs its output, waits for a ready line, and stops it with SIGTERM then
 * SIGKILL.
 */
export function spawnEntry(spec: EntrySpec): ChildHandle {
  const child = spawn(
    process.execPath,
    [...serviceNodeFlags(spec), ...(spec.nodeArgs ?? []), '--import', 'tsx', spec.entry, ...(spec.args ?? [])],
    {
      cwd: spec.cwd ?? repoRoot(),
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: spec.detached ?? false,
    },
  );
  let log: WriteStream | undefined;
  if (spec.logFile !== undefined) {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    log = createWriteStream(spec.logFile, { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    // 'close' comes after both pipes drained.
    child.once('close', () => log?.end());
  }
  const limit = spec.outputLimit ?? Number.POSITIVE_INFINITY;
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    if (text.length > limit) text = text.slice(-limit);
    for (const l of [...listeners]) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  if (spec.onLine !== undefined) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on('line', spec.onLine);
    }
  }
  let running = child.pid !== undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', () => {
      running = false;
      for (const l of [...listeners]) l();
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      running = false;
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    });
  });
  const handle: ChildHandle = {
    name: spec.name,
    pid: child.pid ?? -1,
    child,
    output: () => text,
    logs: () =>
      text.split('\n').flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    waitForLine: (pattern, timeoutMs = 60_000) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const line = text.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (!running) {
            done();
            reject(new Error(`${spec.name} exited before printing ${String(pattern)}; output:\n${text.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `${spec.name} did not print ${String(pattern)} within ${timeoutMs} ms; output:\n${text.slice(-4000)}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    alive: () => running,
    exited,
    kill: (signal) => {
      if (running) child.kill(signal);
    },
    stop: async ({ signal = 'SIGTERM', graceMs = 15_000 } = {}) => {
      const started = Date.now();
      let escalated = false;
      if (running) {
        child.kill(signal);
        const timer = setTimeout(() => {
          escalated = true;
          child.kill('SIGKILL');
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      const exit = await exited;
      return { ...exit, tookMs: Date.now() - started, escalated };
    },
  };
  return handle;
}
