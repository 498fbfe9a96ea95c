import type { Component } from '../lib/components.js';
import type { BenchContext } from '../lib/context.js';
import type { ProcUsage } from '../lib/proc-stats.js';
import { ProcTracker } from '../lib/proc-stats.js';
import type { SinksProcess } from '../lib/sinks-client.js';
import { startSinksProcess } from '../lib/sinks-client.js';
import { spreadOf } from '../lib/stats.js';
import type { Spread } from '../lib/stats.js';
import { describeRatio, judgeRatio } from '../lib/verdict.js';
import type { JudgedRatio } from '../lib/verdict.js';
import { componentPids, e2eRound, startGatewayAndIngest } from './e2e.js';
import { minimalCeilingRound, startMinimalWorker } from './reference.js';
import { startWorkers } from './temporal.js';

/** The Temporal ceiling and notify end to end on one topology, measured interleaved on the same servers. */
export interface TopologyPair {
  topology: string;
  /** The minimal one-activity workflow (no search attributes, no memo) started directly, closed loop: completed/s. */
  minimalPerSec: Spread;
  /** notify end to end (HTTP → sink), open loop offered 1.25 × that round's minimal rate: delivered/s. */
  e2ePerSec: Spread;
  /** What each end-to-end round was offered; a delivered rate near it is a lower bound (notify kept up). */
  offeredPerSec: Spread;
  e2eOverMinimal: JudgedRatio;
  /** Per process over one more end-to-end round at the minimal rate, per 1,000 delivered notifications. */
  resources: Record<string, ProcUsage & { cpuSecondsPer1000: number }>;
  delivered: number;
}

/**
 * Rounds A B A B on the context's servers: the minimal workflow's closed-loop ceiling, then notify end to end offered
 * 25 % more than it. Then one end-to-end round at the minimal rate with CPU and peak RSS of every process.
 */
export async function topologyPairPhase(ctx: BenchContext, topology: string): Promise<TopologyPair> {
  const started: Component[] = [];
  const slug = topology.toLowerCase().replace(/[^a-z0-9]/g, '');
  const prefix = `t${ctx.runId}${slug.slice(0, 3)}`;
  const sinks: SinksProcess = await startSinksProcess(ctx);
  started.push(sinks.component);
  try {
    const workers = await startWorkers(ctx, prefix, sinks, {});
    started.push(...workers);
    started.push(await startMinimalWorker(ctx, `min${prefix}`));
    const { url, group, topic, gateway, ingest } = await startGatewayAndIngest(ctx, prefix, {}, `pair-${slug}`);
    started.push(gateway, ingest);
    ctx.log(`${topology}: warm-up (minimal workflow, notify end to end)`);
    await minimalCeilingRound(ctx, `min${prefix}`, Math.min(3_000, ctx.plan.ceilingMs));
    await e2eRound(ctx, url, sinks, group, topic, 10);
    const minimal: number[] = [];
    const e2e: number[] = [];
    const offeredRates: number[] = [];
    for (let r = 0; r < ctx.plan.rounds; r++) {
      minimal.push(await minimalCeilingRound(ctx, `min${prefix}`, ctx.plan.ceilingMs));
      const offered = Math.max(5, Math.round(1.25 * (minimal[r] ?? 0)));
      offeredRates.push(offered);
      e2e.push((await e2eRound(ctx, url, sinks, group, topic, offered)).deliveredPerSec);
      ctx.log(
        `  ${topology} round ${r + 1}: minimal ${minimal[r]?.toFixed(1)}/s, notify end to end ${e2e[r]?.toFixed(1)}/s (offered ${offered}/s)`,
      );
    }
    const minimalPerSec = spreadOf(minimal);
    const tracker = new ProcTracker(() => componentPids(ctx, gateway, ingest, workers, sinks));
    tracker.begin();
    const point = await e2eRound(ctx, url, sinks, group, topic, Math.max(5, Math.round(minimalPerSec.median)));
    const usage = tracker.end();
    const resources: TopologyPair['resources'] = {};
    for (const [name, u] of Object.entries(usage))
      resources[name] = {
        ...u,
        cpuSecondsPer1000: point.deliveredCount > 0 ? (u.cpuSeconds * 1000) / point.deliveredCount : Number.NaN,
      };
    return {
      topology,
      minimalPerSec,
      e2ePerSec: spreadOf(e2e),
      offeredPerSec: spreadOf(offeredRates),
      e2eOverMinimal: judgeRatio(e2e, minimal),
      resources,
      delivered: point.deliveredCount,
    };
  } finally {
    for (const c of started.reverse()) await c.stop();
  }
}

const rate = (s: Spread) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;

/** The side-by-side table of `npm run bench -- --topology cluster` (markdown). */
export function renderTopologyPairs(pairs: readonly TopologyPair[]): string {
  const lines = [
    '## Topologies side by side (minimal workflow ceiling vs notify end to end, interleaved per topology)',
    '',
    '| topology | minimal workflow /s | notify end to end /s (offered) | notify ÷ minimal |',
    '| --- | --- | --- | --- |',
    ...pairs.map((p) => {
      // Open loop: delivering (nearly) all that was offered means notify's own limit is higher than measured.
      const keptUp = p.e2ePerSec.median >= 0.9 * p.offeredPerSec.median ? ' (kept up with the offer: lower bound)' : '';
      return `| ${p.topology} | ${rate(p.minimalPerSec)} | ${rate(p.e2ePerSec)} (${rate(p.offeredPerSec)}) | ${describeRatio(p.e2eOverMinimal)}${keptUp} |`;
    }),
    '',
    '| topology | process | CPU s per 1,000 notifications | peak RSS MB |',
    '| --- | --- | --- | --- |',
  ];
  for (const p of pairs)
    for (const [name, u] of Object.entries(p.resources))
      lines.push(`| ${p.topology} | ${name} | ${u.cpuSecondsPer1000.toFixed(1)} | ${u.peakRssMb.toFixed(0)} |`);
  lines.push('');
  for (const p of pairs) {
    const total = Object.values(p.resources).reduce(
      (sum, u) => sum + (Number.isFinite(u.cpuSecondsPer1000) ? u.cpuSecondsPer1000 : 0),
      0,
    );
    lines.push(
      `${p.topology}: all processes ${total.toFixed(1)} CPU s per 1,000 notifications (${p.delivered} delivered in the resource round).`,
    );
  }
  return lines.join('\n');
}
