import { describe, expect, it } from 'vitest';
import { median, medianOf, percentile, ratio, summarize } from './stats.js';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles of sorted samples', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(500);
    expect(percentile(sorted, 99)).toBe(990);
    expect(percentile(sorted, 99.9)).toBe(999);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes unsorted latencies', () => {
    expect(summarize([30, 10, 20])).toEqual({ count: 3, p50: 20, p99: 30, p999: 30, max: 30 });
  });

  it('reports the median of rounds, ignoring rounds that produced no figure', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, Number.NaN, 2, 3])).toBe(2.5);
    expect(
      medianOf([
        { name: 'a', v: 1 },
        { name: 'b', v: 9 },
        { name: 'c', v: 5 },
      ]),
    ).toEqual({ name: 'a', v: 5 });
  });

  it('gives NaN for a ratio against a missing baseline', () => {
    expect(ratio(5, 10)).toBe(0.5);
    expect(ratio(5, 0)).toBeNaN();
  });
});
