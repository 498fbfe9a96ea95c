import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const settings = { failureThreshold: 3, windowMs: 10_000, cooldownMs: 5_000 };

describe('circuit breaker', () => {
  it('stays closed below the threshold and opens at the Nth consecutive failure within the window', () => {
    const clock = fakeClock();
    const b = createCircuitBreaker(settings, clock.now);
    b.failure();
    b.failure();
    expect(b.state()).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state()).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    expect(b.msUntilProbe()).toBe(5_000);
  });

  it('does not open when the failures are spread wider than the window', () => {
    const clock = fakeClock();
    const b = createCircuitBreaker(settings, clock.now);
    b.failure();
    clock.advance(6_000);
    b.failure();
    clock.advance(6_000); // the first failure is now 12 s old: outside the 10 s window
    b.failure();
    expect(b.state()).toBe('closed');
    b.failure(); // three within 10 s (at 6 s, 12 s, 12 s)
    expect(b.state()).toBe('open');
  });

  it('starts counting again after a success', () => {
    const b = createCircuitBreaker(settings, fakeClock().now);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state()).toBe('closed');
  });

  it('lets exactly one probe through after the cool-down and closes when it succeeds', () => {
    const clock = fakeClock();
    const b = createCircuitBreaker(settings, clock.now);
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(4_999);
    expect(b.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(b.state()).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // the probe is in flight
    b.success();
    expect(b.state()).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
  });

  it('opens again for a whole cool-down when the probe fails', () => {
    const clock = fakeClock();
    const b = createCircuitBreaker(settings, clock.now);
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(5_000);
    expect(b.tryAcquire()).toBe(true);
    clock.advance(1_000);
    b.failure();
    expect(b.state()).toBe('open');
    expect(b.msUntilProbe()).toBe(5_000);
    clock.advance(4_000);
    expect(b.tryAcquire()).toBe(false);
    clock.advance(1_000);
    expect(b.tryAcquire()).toBe(true);
  });

  it('frees the probe slot when the probe is released without an outcome, and replaces a probe that never reports', () => {
    const clock = fakeClock();
    const b = createCircuitBreaker(settings, clock.now);
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(5_000);
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.tryAcquire()).toBe(true); // a new probe right away
    expect(b.tryAcquire()).toBe(false);
    clock.advance(5_000); // that probe never reported
    expect(b.tryAcquire()).toBe(true);
  });
});
