import { describe, expect, it } from 'vitest';
import { judgeRatio } from './verdict.js';

describe('judgeRatio', () => {
  it('reports the ratio of medians with per-round spread when the baseline is stable', () => {
    const r = judgeRatio([50, 60, 55], [100, 110, 105]);
    expect(r.validity).toBe('ok');
    expect(r.value).toBeCloseTo(55 / 105, 5);
    expect(r.perRound.min).toBeCloseTo(0.5, 5);
  });

  it('marks a ratio invalid when the baseline rounds spread beyond the bound', () => {
    const r = judgeRatio([10, 10], [100, 20]);
    expect(r.validity).toBe('invalid');
    expect(r.reason).toMatch(/baseline unstable/);
  });

  it('marks a subject above its own ceiling as invalid instead of a met target', () => {
    // The case: a broken 1/s ceiling against 4.67/s end to end.
    const r = judgeRatio([4.7, 4.6], [1, 1], { ceilingNoise: 0.15 });
    expect(r.validity).toBe('invalid');
    expect(r.reason).toMatch(/above its own ceiling/);
  });

  it('marks a ratio generator-bound when the generator was the limit', () => {
    const r = judgeRatio([90, 95], [100, 100], { generatorBound: 'bare route not faster than the gateway' });
    expect(r.validity).toBe('generator-bound');
  });

  it('refuses a single-round baseline, whose stability is unknown', () => {
    expect(judgeRatio([5], [10]).validity).toBe('invalid');
  });
});
