import { describe, expect, it } from 'vitest';
import { busyShare, cpuBudget, parseProcStat } from './cpu-budget.js';

describe('cpuBudget', () => {
  it('says a target is unreachable when its rate needs more cores than the box has', () => {
    // 0.27 + 0.10 + 0.02 ms per request: 2 cores allow 5,128/s, so 7,600/s would need 2.96 cores.
    const b = cpuBudget({ gateway: 0.27, kafka: 0.1, generator: 0.02 }, 2, 7_600);
    expect(b.cost.total).toBeCloseTo(0.39, 10);
    expect(b.boxBoundPerSec).toBeCloseTo(5_128.2, 1);
    expect(b.coresNeeded).toBeCloseTo(2.964, 3);
    expect(b.reachable).toBe(false);
  });

  it('says a target is reachable when the cost per request fits into the cores', () => {
    const b = cpuBudget({ gateway: 0.1, kafka: 0.05, generator: 0.01 }, 2, 7_600);
    expect(b.coresNeeded).toBeCloseTo(1.216, 3);
    expect(b.reachable).toBe(true);
  });

  it('never calls a target reachable when a cost is unknown', () => {
    const b = cpuBudget({ gateway: Number.NaN, kafka: 0.05, generator: 0.01 }, 2, 100);
    expect(b.reachable).toBe(false);
    expect(b.boxBoundPerSec).toBeNaN();
  });
});

describe('machine CPU from /proc/stat', () => {
  const stat = (user: number, idle: number) =>
    `cpu  ${user} 0 100 ${idle} 50 10 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2 3\n`;

  it('counts everything but idle and iowait as busy', () => {
    expect(parseProcStat(stat(1_000, 4_000))).toEqual({ busy: 1_115, total: 5_165 });
  });

  it('gives the busy share between two readings', () => {
    const a = parseProcStat(stat(1_000, 4_000));
    const b = parseProcStat(stat(1_900, 4_100));
    expect(busyShare(a, b)).toBeCloseTo(0.9, 10);
  });

  it('is NaN when a reading is missing or the counters did not advance', () => {
    const a = parseProcStat(stat(1_000, 4_000));
    expect(busyShare(undefined, a)).toBeNaN();
    expect(busyShare(a, a)).toBeNaN();
  });

  it('refuses a /proc/stat without the aggregate line', () => {
    expect(() => parseProcStat('cpu0 1 2 3\n')).toThrow(/aggregate cpu line/);
  });
});
