import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { literalPattern, spawnEntry } from '../dev/process-harness/index.js';
import type { ChildHandle } from '../dev/process-harness/index.js';

/** How a managed process is started, and which log line says it is ready. */
export interface ProcessSpec {
  /** Unique name, e.g. `ingest-1`, `worker-email-2`. */
  name: string;
  /** Entry point, relative to `cwd` (run through tsx). */
  entry: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Substring of a stdout line that means "ready" (e.g. `workers running`). */
  readyLine: string;
  /** The current pid is written here, so a later run can clean up after a runner that was killed. */
  pidFile: string;
}

/** Reports what happened to a process that nobody asked to stop (crash), and its automatic restart. */
export type ProcessEventLog = (line: string) => void;

/**
 * One OS process of the system under test (`node --import tsx <entry>`), which the chaos run can kill -9, SIGTERM and
 * restart. Like a process supervisor (systemd, Kubernetes), it restarts the process after an exit nobody asked for
 * (e.g. a worker that gives up while Temporal is down), so a crash is an observed effect rather than the end of the run.
 */
export class ManagedProcess {
  private child: ChildHandle | undefined;
  private ready: Promise<void> = Promise.resolve();
  private expectingExit = false;
  private closed = false;
  /** Number of starts (1 after the first). */
  starts = 0;
  /** Exits nobody asked for. */
  crashes = 0;

  constructor(
    readonly spec: ProcessSpec,
    private readonly events: ProcessEventLog,
    /** Pause before an automatic restart after a crash. */
    private readonly restartDelayMs = 2_000,
  ) {}

  /** Current pid (undefined while down). */
  get pid(): number | undefined {
    return this.child?.alive() === true ? this.child.pid : undefined;
  }

  /** Starts the process; resolves once its ready line was printed (rejects if it exits first or after `timeoutMs`). */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.pid !== undefined) return this.ready;
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    mkdirSync(dirname(this.spec.pidFile), { recursive: true });
    appendFileSync(
      this.spec.logFile,
      `\n=== ${new Date().toISOString()} start ${this.spec.name}: ${this.spec.entry} ${this.spec.args.join(' ')}\n`,
    );
    this.expectingExit = false;
    this.starts++;
    // Own process group: a Ctrl-C in the terminal reaches only the runner, which then stops everything in order.
    const child = spawnEntry({
      name: this.spec.name,
      entry: this.spec.entry,
      args: this.spec.args,
      env: this.spec.env,
      cwd: this.spec.cwd,
      logFile: this.spec.logFile,
      outputLimit: 8_192,
      detached: true,
    });
    this.child = child;
    if (child.pid > 0) writeFileSync(this.spec.pidFile, `${child.pid}\n`);
    this.ready = child.waitForLine(literalPattern(this.spec.readyLine), timeoutMs).then(
      () => undefined,
      (err: unknown) => {
        throw new Error(
          `${this.spec.name} not ready (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); see ${this.spec.logFile}`,
        );
      },
    );
    // Nobody may be waiting for readiness (automatic restarts); keep the rejection from being unhandled.
    this.ready.catch(() => undefined);
    void child.exited.then(({ code, signal }) => {
      if (this.expectingExit || this.closed) return;
      this.crashes++;
      this.events(
        `${this.spec.name} (pid ${String(child.pid)}) exited on its own (code ${String(code)}, signal ${String(signal)}); restarting in ${this.restartDelayMs} ms`,
      );
      setTimeout(() => {
        if (this.closed || this.pid !== undefined) return;
        this.start().then(
          () => this.events(`${this.spec.name} restarted after its crash (pid ${String(this.pid)})`),
          (err: unknown) =>
            this.events(`${this.spec.name} failed to restart: ${err instanceof Error ? err.message : String(err)}`),
        );
      }, this.restartDelayMs).unref();
    });
    await this.ready;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). Returns the exit code and how long it took. */
  async stop(
    signal: NodeJS.Signals,
    timeoutMs = 60_000,
  ): Promise<{ code: number | null; tookMs: number; escalated: boolean }> {
    const child = this.child;
    if (child === undefined || this.pid === undefined) return { code: null, tookMs: 0, escalated: false };
    this.expectingExit = true;
    const exit = await child.stop({ signal, graceMs: timeoutMs });
    return { code: exit.code ?? (exit.signal !== null ? -1 : null), tookMs: exit.tookMs, escalated: exit.escalated };
  }

  /** From now on an exit is not restarted (called on every process before an orderly shutdown). */
  retire(): void {
    this.closed = true;
  }

  /** Stops the process for good (no automatic restart); its log is closed once its output drained. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    await this.stop('SIGTERM', graceMs);
    await sleep(10);
  }
}

/**
 * SIGKILLs component processes left behind by a runner that was itself killed: every `*.pid` file in `runDir` whose
 * process is still a tsx child of this repository. Returns how many were killed.
 */
export function killLeftovers(runDir: string): number {
  if (!existsSync(runDir)) return 0;
  let killed = 0;
  for (const file of readdirSync(runDir).filter((f) => f.endsWith('.pid'))) {
    const pid = Number.parseInt(readFileSync(join(runDir, file), 'utf8').trim(), 10);
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('tsx') && cmdline.includes('src/')) {
        process.kill(pid, 'SIGKILL');
        killed++;
      }
    } catch {
      // gone already
    }
    rmSync(join(runDir, file), { force: true });
  }
  return killed;
}
