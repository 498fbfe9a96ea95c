/**
 * A circuit breaker for one provider in one worker process (pure: no I/O, the clock is passed in).
 *
 * - **closed**: calls go through; `failureThreshold` consecutive failures whose span fits in `windowMs` open it (a
 *   success, or a failure streak older than the window, starts counting again);
 * - **open**: calls are refused for `cooldownMs`, so a channel with another provider goes straight to it;
 * - **half-open**: after the cool-down one call (the probe) goes through; its success closes the circuit, its failure
 *   opens it for another cool-down. While the probe is in flight other calls are refused; a probe that never reports
 *   (its caller gave up) is replaced by a new one after another cool-down.
 */

/** Settings of a circuit breaker (config: `<CHANNEL>_CIRCUIT_FAILURE_THRESHOLD`, `_WINDOW_MS`, `_COOLDOWN_MS`). */
export interface CircuitBreakerSettings {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** The failures must all fall within this many milliseconds. */
  windowMs: number;
  /** How long an open circuit refuses calls before it lets one probe through. */
  cooldownMs: number;
}

/** State of a circuit, as reported by `state()`. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** A circuit breaker: ask `tryAcquire()` before a call, then report `success()` / `failure()` (or `release()`). */
export interface CircuitBreaker {
  /** Whether a call may go now. In half-open state a `true` makes this call the probe. */
  tryAcquire(): boolean;
  /** The call got an answer that shows the provider works (a recipient error counts: the provider answered). */
  success(): void;
  /** The call failed because of the provider (transient error, timeout, credentials refused). */
  failure(): void;
  /** The call ended without telling anything about the provider (e.g. the caller aborted): frees the probe slot. */
  release(): void;
  state(): CircuitState;
  /** Milliseconds until an open circuit lets a probe through (0 when a call may go now). */
  msUntilProbe(): number;
}

/** Creates a breaker in the closed state. `now` returns milliseconds (tests pass a fake clock). */
export function createCircuitBreaker(settings: CircuitBreakerSettings, now: () => number = Date.now): CircuitBreaker {
  let state: CircuitState = 'closed';
  /** Times of the current streak of consecutive failures (closed state). */
  let failures: number[] = [];
  let openedAt = 0;
  let probeStartedAt: number | undefined;

  const open = (at: number) => {
    state = 'open';
    openedAt = at;
    failures = [];
    probeStartedAt = undefined;
  };

  return {
    tryAcquire() {
      const t = now();
      if (state === 'closed') return true;
      if (state === 'open') {
        if (t - openedAt < settings.cooldownMs) return false;
        state = 'half-open';
        probeStartedAt = t;
        return true;
      }
      // half-open: one probe at a time; a probe that never reported is replaced after a cool-down.
      if (probeStartedAt !== undefined && t - probeStartedAt < settings.cooldownMs) return false;
      probeStartedAt = t;
      return true;
    },
    success() {
      state = 'closed';
      failures = [];
      probeStartedAt = undefined;
    },
    failure() {
      const t = now();
      if (state !== 'closed') {
        open(t);
        return;
      }
      failures = failures.filter((at) => t - at <= settings.windowMs);
      failures.push(t);
      if (failures.length >= settings.failureThreshold) open(t);
    },
    release() {
      if (state === 'half-open') probeStartedAt = undefined;
    },
    state() {
      if (state === 'open' && now() - openedAt >= settings.cooldownMs) return 'half-open';
      return state;
    },
    msUntilProbe() {
      const t = now();
      if (state === 'closed') return 0;
      if (state === 'open') return Math.max(0, openedAt + settings.cooldownMs - t);
      return probeStartedAt === undefined ? 0 : Math.max(0, probeStartedAt + settings.cooldownMs - t);
    },
  };
}
