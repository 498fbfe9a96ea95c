import type { ChildProcess } from 'node:child_process';
import { spawnEntry } from '../process-harness/index.js';
import type { ChildHandle } from '../process-harness/index.js';

/** A component process started by `npm start`. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  handle: ChildHandle;
}

const COLORS = [36, 35, 33, 32, 34, 31];

/** Formats one JSON log line of a component for a terminal; non-JSON lines pass through. */
export function formatLogLine(name: string, line: string, color: number): string {
  let text = line;
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; time?: string; [k: string]: unknown };
    const level =
      entry.level !== undefined && entry.level >= 50
        ? 'ERROR'
        : entry.level !== undefined && entry.level >= 40
          ? 'WARN '
          : 'INFO ';
    const { msg, level: _l, time: _t, pid: _p, component: _c, hostname: _h, ...rest } = entry;
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    text = `${level} ${msg ?? ''}${extra}`;
  } catch {
    // not JSON: print as is
  }
  return `\u001b[${color}m${name.padEnd(8)}\u001b[0m ${text}`;
}

/** Starts a TypeScript entry point as a child process (via tsx) and prefixes its log lines with its name. */
export function startComponent(
  name: string,
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  index: number,
): ManagedProcess {
  const color = COLORS[index % COLORS.length] ?? 36;
  // Output goes to the terminal only; keep a little in memory.
  const handle = spawnEntry({
    name,
    entry,
    args,
    env,
    cwd: process.cwd(),
    outputLimit: 16_384,
    onLine: (line) => console.log(formatLogLine(name, line, color)),
  });
  return { name, child: handle.child, exited: handle.exited.then((e) => e.code), handle };
}

/** Sends SIGTERM to each process and waits (then SIGKILL after `graceMs`). */
export async function stopComponents(processes: ManagedProcess[], graceMs: number): Promise<void> {
  await Promise.all(processes.map((p) => p.handle.stop({ graceMs })));
}
