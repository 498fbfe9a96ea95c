import { describe, expect, it } from 'vitest';
import { rfc3339Us, summarizeVegeta } from './vegeta.js';

/** A `vegeta encode --to json` line for request `seq`, sent `lateMs` after its slot at `ratePerSec`. */
function line(seq: number, ratePerSec: number, lateMs: number, latencyMs: number, code = 202): string {
  const sentUs = 1_780_000_000_000_000 + seq * (1e6 / ratePerSec) + lateMs * 1e3;
  const ms = Math.floor(sentUs / 1e3);
  const us = Math.round(sentUs - ms * 1e3);
  const iso = new Date(ms).toISOString().replace('Z', `${String(us).padStart(3, '0')}789Z`);
  return JSON.stringify({ seq, code, timestamp: iso, latency: latencyMs * 1e6, error: code === 0 ? 'timeout' : '' });
}

describe('vegeta results', () => {
  it('reads nanosecond RFC 3339 timestamps, to the microsecond, where Date.parse would keep only milliseconds', () => {
    expect(rfc3339Us('2026-12-02T13:40:01.123456789Z') - rfc3339Us('2026-12-02T13:40:01.123Z')).toBe(456);
    expect(rfc3339Us('2026-12-02T14:40:01+01:00')).toBe(rfc3339Us('2026-12-02T13:40:01Z'));
  });

  it('counts latency from each request’s scheduled slot, so a late send adds its lateness and shows as issue lag', () => {
    const rate = 1000;
    const onTime = Array.from({ length: 98 }, (_, i) => line(i, rate, 0, 5));
    // Two requests sent 40 ms after their slots (the generator stalled), each answered in 5 ms.
    const late = [line(98, rate, 40, 5), line(99, rate, 40, 5)];
    const r = summarizeVegeta([...onTime, ...late].join('\n'), rate, 100, 0.05);
    expect(r.issued).toBe(100);
    expect(r.p50Ms).toBeCloseTo(5, 6);
    expect(r.p99Ms).toBeCloseTo(45, 6);
    expect(r.issueLagP99Ms).toBeCloseTo(40, 6);
    expect(r.acceptedPerSec).toBe(1000);
    expect(r.generatorCpuSec).toBe(0.05);
  });

  it('reports failed requests by status, transport errors by their message', () => {
    const lines = [line(0, 100, 0, 1), line(1, 100, 0, 1, 503), line(2, 100, 0, 1, 0)];
    const r = summarizeVegeta(lines.join('\n'), 100, 30, 0);
    expect(r.failed).toBe(2);
    expect(r.statuses).toEqual({ '202': 1, '503': 1, 'error: timeout': 1 });
    expect(r.acceptedPerSec).toBeCloseTo(1 / 0.03, 6);
  });
});
