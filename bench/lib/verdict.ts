import { ratio, relativeSpread, spreadOf } from './stats.js';
import type { Spread } from './stats.js';

/**
 * Validity rules of every ratio the bench reports. A ratio is only as good as its baseline: the baseline and the
 * subject are measured interleaved (A B A B) in the same run, and a ratio is printed as a number only when
 * - the baseline is stable (relative spread over its rounds ≤ `maxBaselineSpread`),
 * - the subject is not above its own baseline by more than the noise (a pipeline faster than its own ceiling means
 *   the ceiling was mis-measured), and
 * - the generator was not the limit (for HTTP: the bare route reached a higher rate than the subject).
 * Otherwise the ratio is `invalid` or `generator-bound` with the reason, and a target on it is never "met".
 */
export type Validity = 'ok' | 'invalid' | 'generator-bound';

/** A ratio with its rounds, its validity and why. */
export interface JudgedRatio {
  /** Ratio of the medians (subject ÷ baseline). */
  value: number;
  /** Per interleaved round pair: subject[i] ÷ baseline[i]. */
  perRound: Spread;
  subject: Spread;
  baseline: Spread;
  validity: Validity;
  reason?: string;
}

/** Default bound on the baseline's relative spread (max − min) ÷ median. */
export const MAX_BASELINE_SPREAD = 0.3;
/** How far above 1 a subject ÷ its own ceiling may come out before it is treated as impossible (noise). */
export const CEILING_NOISE = 0.15;

/** Options of {@link judgeRatio}. */
export interface JudgeOptions {
  maxBaselineSpread?: number;
  /** Set when the baseline is a ceiling of the subject (ratio > 1 + noise is impossible). */
  ceilingNoise?: number;
  /** Set when the generator is known to be the limit, with the evidence. */
  generatorBound?: string;
}

/** Judges subject ÷ baseline from interleaved rounds (same index = same round pair). */
export function judgeRatio(
  subjectRounds: readonly number[],
  baselineRounds: readonly number[],
  options: JudgeOptions = {},
): JudgedRatio {
  const subject = spreadOf(subjectRounds);
  const baseline = spreadOf(baselineRounds);
  const perRound = spreadOf(subjectRounds.map((s, i) => ratio(s, baselineRounds[i] ?? Number.NaN)));
  const value = ratio(subject.median, baseline.median);
  const base = { value, perRound, subject, baseline };
  const maxSpread = options.maxBaselineSpread ?? MAX_BASELINE_SPREAD;
  const spread = relativeSpread(baseline);
  if (!Number.isFinite(value))
    return {
      ...base,
      validity: 'invalid',
      reason: `baseline ${baseline.median > 0 ? 'or subject ' : ''}not measured (median ${fmt(baseline.median)})`,
    };
  if (baseline.rounds.filter(Number.isFinite).length < 2)
    return { ...base, validity: 'invalid', reason: 'baseline has fewer than 2 rounds: its stability is unknown' };
  if (!(spread <= maxSpread)) {
    return {
      ...base,
      validity: 'invalid',
      reason: `baseline unstable: rounds ${baseline.rounds.map(fmt).join(', ')} spread ${pct(spread)} > ${pct(maxSpread)}`,
    };
  }
  if (options.ceilingNoise !== undefined && value > 1 + options.ceilingNoise) {
    return {
      ...base,
      validity: 'invalid',
      reason: `subject ${fmt(subject.median)} is above its own ceiling ${fmt(baseline.median)} by more than the noise (${pct(options.ceilingNoise)}): the ceiling was not measured at saturation`,
    };
  }
  if (options.generatorBound !== undefined)
    return { ...base, validity: 'generator-bound', reason: options.generatorBound };
  return { ...base, validity: 'ok' };
}

/** "0.42 (0.40–0.45)" or "invalid (reason)". */
export function describeRatio(r: JudgedRatio): string {
  const range = `${r.value.toFixed(2)} (rounds ${r.perRound.min.toFixed(2)}–${r.perRound.max.toFixed(2)})`;
  if (r.validity === 'ok') return range;
  return `${r.validity.toUpperCase()}: ${r.reason ?? ''} [measured ${Number.isFinite(r.value) ? range : '–'}]`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(0)} %` : '–';
}
