import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** CPU and memory of one process as Linux reports it in /proc. */
export interface ProcSample {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Current resident set size (bytes). */
  rssBytes: number;
  /** Peak resident set size since start or the last {@link resetPeakRss} (VmHWM, bytes). */
  peakRssBytes: number;
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`, almost always 100): the unit of utime/stime in /proc/<pid>/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * Reads /proc/<pid>/stat (utime, stime) and /proc/<pid>/status (VmRSS, VmHWM). Returns undefined when the process
 * is gone. The command name in `stat` may contain spaces and parentheses, so fields are counted after the last ')'.
 */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)), i.e. index 11 and 12 here.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { cpuSeconds: (utime + stime) / ticksPerSecond(), rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Resets the peak RSS (VmHWM) to the current RSS by writing 5 to /proc/<pid>/clear_refs; false when not permitted. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Resource use of one process over a measured interval. */
export interface ProcUsage {
  cpuSeconds: number;
  peakRssMb: number;
}

/**
 * Tracks named processes over an interval: `begin()` resets peaks and records CPU, `end()` returns CPU seconds used
 * and peak RSS per process. A process that exited in between reports NaN.
 */
export class ProcTracker {
  private start = new Map<string, ProcSample | undefined>();

  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  /** Starts an interval. */
  begin(): void {
    this.start = new Map();
    for (const [name, pid] of Object.entries(this.pids())) {
      if (pid === undefined) continue;
      resetPeakRss(pid);
      this.start.set(name, readProc(pid));
    }
  }

  /** Ends the interval: CPU seconds and peak RSS (MB) per process. */
  end(): Record<string, ProcUsage> {
    const out: Record<string, ProcUsage> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      if (pid === undefined) continue;
      const before = this.start.get(name);
      const now = readProc(pid);
      out[name] = {
        cpuSeconds: before !== undefined && now !== undefined ? now.cpuSeconds - before.cpuSeconds : Number.NaN,
        peakRssMb: now !== undefined ? now.peakRssBytes / 2 ** 20 : Number.NaN,
      };
    }
    return out;
  }
}
