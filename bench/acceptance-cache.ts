import { AcceptanceCache } from '../src/api/acceptance-cache.js';
import type { AcceptedEntry } from '../src/api/acceptance-cache.js';
import { median } from './lib/stats.js';

/**
 * Cost per accepted notification of the gateway's acceptance cache once full (100,000 entries, the gateway's bound):
 * `src/api/acceptance-cache.ts` against the `Map` trimmed from its oldest key that it replaced (kept here as the
 * baseline), interleaved A B A B in one process: `npx tsx bench/acceptance-cache.ts [--rounds 6]`.
 */

/** The replaced cache: an insertion-ordered Map whose oldest key is deleted once over the bound. */
class MapTrimmedFromOldest {
  private readonly entries = new Map<string, AcceptedEntry>();
  constructor(private readonly maxEntries: number) {}
  set(id: string, entry: AcceptedEntry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}

const MAX = 100_000;
const PER_ROUND = 50_000;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 6) || 6;

function fill(cache: { set(id: string, e: AcceptedEntry): void }, from: number, n: number): number {
  const t = performance.now();
  for (let i = from; i < from + n; i++) cache.set(`ntf_${i}`, { bodyHash: `h${i}`, acceptedAt: 't', clientId: 'c' });
  return ((performance.now() - t) * 1000) / n;
}

const subjects = {
  'Map trimmed from its oldest key (before)': new MapTrimmedFromOldest(MAX),
  'AcceptanceCache (two generations)': new AcceptanceCache(MAX),
};
const next: Record<string, number> = {};
// Full before the first measured round, as a gateway after its first 100,000 acceptances.
for (const [name, cache] of Object.entries(subjects)) {
  fill(cache, 0, MAX);
  next[name] = MAX;
}
const perSet: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++)
  for (const [name, cache] of Object.entries(subjects)) {
    const from = next[name] ?? MAX;
    (perSet[name] ??= []).push(fill(cache, from, PER_ROUND));
    next[name] = from + PER_ROUND;
  }
console.log(`| cache (full, ${MAX} entries, ${rounds} rounds of ${PER_ROUND} sets) | µs per set, median (min–max) |`);
console.log('|---|---|');
for (const [name, v] of Object.entries(perSet))
  console.log(`| ${name} | ${median(v).toFixed(2)} (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}) |`);
const [before, after] = Object.values(perSet);
console.log(`\nbefore ÷ after (median): ${(median(before ?? []) / median(after ?? [])).toFixed(0)} ×`);
