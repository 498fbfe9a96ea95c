import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../dev/infra/index.js';
import { spawnEntry } from '../../dev/process-harness/index.js';

/** A notify component (or bench helper) running as its own process, so its CPU and memory can be measured alone. */
export interface Component {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Start-to-ready time (spawn until `ready` resolved), ms. */
  readyMs: number;
  /** `performance.now()` of the spawn: a CPU profile's time 0, give or take Node's own start. */
  spawnedAt: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Component>();
const readiness: Array<{ name: string; readyMs: number }> = [];

/** Start-to-ready time of every component started in this run, in start order. */
export function readinessLog(): ReadonlyArray<{ name: string; readyMs: number }> {
  return readiness;
}

/** Stops every component still running (used when a run fails or is interrupted). */
export async function stopAllComponents(): Promise<void> {
  await Promise.allSettled([...live].map((c) => c.stop(3_000)));
}

/** How to start one component. */
export interface ComponentSpec {
  name: string;
  /** Script relative to the repo root, run with `node --import tsx`. */
  script: string;
  args?: string[];
  /** Node flags before `--import tsx` (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** False: without the flags the service ships with (e.g. the gateway's young-generation size), for a baseline. */
  serviceFlags?: boolean;
  /** Full environment of the child (build it with the bench's environment plus overrides). */
  env: NodeJS.ProcessEnv;
  /** Output (stdout + stderr) is appended here. */
  logDir: string;
  /** Resolves when the component is ready (e.g. a log line was seen or an HTTP probe answered). */
  ready: (child: ChildProcess, output: () => string) => Promise<void>;
  readyTimeoutMs?: number;
}

/** Starts a component and waits until it is ready; kills it and throws (with its last output) when it is not. */
export async function startComponent(spec: ComponentSpec): Promise<Component> {
  const spawnedAt = performance.now();
  const handle = spawnEntry({
    name: spec.name,
    entry: spec.script,
    args: spec.args,
    nodeArgs: spec.nodeArgs,
    serviceFlags: spec.serviceFlags,
    env: spec.env,
    cwd: repoRoot(),
    logFile: join(spec.logDir, `${spec.name}.log`),
    outputLimit: 8_000,
  });
  const { child } = handle;
  const tail = () => handle.output();
  if (child.pid === undefined) throw new Error(`${spec.name} could not be spawned`);
  // eslint-disable-next-line prefer-const -- assigned after `stop`, which refers to it
  let component: Component;
  const stop = async (graceMs = 10_000) => {
    await handle.stop({ graceMs });
    live.delete(component);
  };
  component = { name: spec.name, pid: child.pid, child, readyMs: Number.NaN, spawnedAt, stop };
  live.add(component);
  const timeoutMs = spec.readyTimeoutMs ?? 90_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      spec.ready(child, tail),
      handle.exited.then(() => {
        throw new Error(`${spec.name} exited during start-up (code ${String(child.exitCode)}):\n${tail()}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${spec.name} not ready within ${timeoutMs} ms:\n${tail()}`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await stop(2_000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  component.readyMs = performance.now() - spawnedAt;
  readiness.push({ name: spec.name, readyMs: component.readyMs });
  return component;
}

/** Ready when the component's output matches `pattern`. */
export function whenOutput(pattern: RegExp): ComponentSpec['ready'] {
  return (child, output) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (pattern.test(output())) {
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
          resolve();
        }
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      check();
    });
}

/** Ready when `GET url` answers 200. */
export function whenHttpOk(url: string): ComponentSpec['ready'] {
  return async () => {
    for (;;) {
      try {
        const res = await fetch(url);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
}
