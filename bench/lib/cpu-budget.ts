import { readFileSync } from 'node:fs';

/** CPU time every process on the path spends per accepted request, in milliseconds. */
export interface PathCost {
  gateway: number;
  kafka: number;
  /** The load generator's own CPU per request: it shares the box, so it counts against the same cores. */
  generator: number;
}

/**
 * What the measured cost per request allows on this box: whether a target rate fits into its cores at all. A target
 * that needs more cores than the box has cannot be met by the code under test alone, whatever its parallelism; the
 * report says so instead of printing only "not met".
 */
export interface CpuBudget {
  cost: PathCost & { total: number };
  cores: number;
  /** Highest rate the box's cores allow at this cost: `cores × 1000 ÷ total`. */
  boxBoundPerSec: number;
  targetPerSec: number;
  /** Cores the target rate would need at this cost. */
  coresNeeded: number;
  reachable: boolean;
}

/** {@link CpuBudget} of a target rate at a measured cost per request (NaN costs make the budget NaN, never reachable). */
export function cpuBudget(cost: PathCost, cores: number, targetPerSec: number): CpuBudget {
  const total = cost.gateway + cost.kafka + cost.generator;
  const boxBoundPerSec = total > 0 ? (cores * 1000) / total : Number.NaN;
  const coresNeeded = (targetPerSec * total) / 1000;
  return {
    cost: { ...cost, total },
    cores,
    boxBoundPerSec,
    targetPerSec,
    coresNeeded,
    reachable: Number.isFinite(coresNeeded) && coresNeeded <= cores,
  };
}

/** Busy and total CPU time of the whole machine (`/proc/stat`, first line), in clock ticks. */
export interface MachineCpu {
  busy: number;
  total: number;
}

/** Parses the aggregate `cpu` line of /proc/stat: busy = everything but idle and iowait. */
export function parseProcStat(stat: string): MachineCpu {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('no aggregate cpu line in /proc/stat');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** The machine's CPU counters now; undefined off Linux. */
export function readMachineCpu(): MachineCpu | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Share of the machine's CPU that was busy between two readings (0–1; NaN when unknown). */
export function busyShare(before: MachineCpu | undefined, after: MachineCpu | undefined): number {
  if (before === undefined || after === undefined || after.total <= before.total) return Number.NaN;
  return (after.busy - before.busy) / (after.total - before.total);
}
