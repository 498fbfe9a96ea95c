/**
 * Small statistics helpers for the benchmark: percentiles of latency samples and medians across rounds.
 */

/** Latency percentiles of one measurement, in milliseconds (NaN when there were no samples). */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Nearest-rank percentile (`p` in 0–100) of an ascending-sorted array; NaN for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  // The epsilon keeps float error (0.999 × 1000 = 999.0000000000001) from moving the rank up by one.
  const rank = Math.ceil((p / 100) * sorted.length - 1e-9);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

/** p50/p99/p99.9/max of latency samples (ms). */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Median of the finite values (the figure reported for repeated rounds); NaN when none is finite. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? (finite[mid] ?? Number.NaN) : ((finite[mid - 1] ?? 0) + (finite[mid] ?? 0)) / 2;
}

/** Median of each numeric field across rounds (non-numeric fields are taken from the first round). */
export function medianOf<T extends object>(rounds: readonly T[]): T {
  const first = rounds[0];
  if (first === undefined) throw new Error('medianOf needs at least one round');
  const out: Record<string, unknown> = { ...(first as Record<string, unknown>) };
  for (const [key, value] of Object.entries(first)) {
    if (typeof value === 'number') out[key] = median(rounds.map((r) => (r as Record<string, unknown>)[key] as number));
  }
  return out as T;
}

/** `a ÷ b`, NaN when either is not a positive finite number. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

/** A figure measured over several rounds: every round's value and their min/median/max. */
export interface Spread {
  rounds: number[];
  min: number;
  median: number;
  max: number;
}

/** min/median/max of round values (NaN fields when no value is finite). */
export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    rounds: [...values],
    min: finite.length > 0 ? Math.min(...finite) : Number.NaN,
    median: median(finite),
    max: finite.length > 0 ? Math.max(...finite) : Number.NaN,
  };
}

/** Relative spread (max − min) ÷ median of a figure; NaN when the median is not positive. */
export function relativeSpread(s: Spread): number {
  return Number.isFinite(s.median) && s.median > 0 ? (s.max - s.min) / s.median : Number.NaN;
}
