import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../dev/infra/index.js';
import { loadTemplateStore } from '../../src/templates/index.js';
import type { Component } from '../lib/components.js';
import { startComponent, whenOutput } from '../lib/components.js';
import type { BenchContext } from '../lib/context.js';
import { sleep } from '../lib/context.js';
import { selfTimeByArea, topFrames } from '../lib/cpu-profile.js';
import type { FrameSelfTime } from '../lib/cpu-profile.js';
import { ProcTracker } from '../lib/proc-stats.js';
import type { SinksProcess } from '../lib/sinks-client.js';
import { startSinksProcess } from '../lib/sinks-client.js';
import { spreadOf } from '../lib/stats.js';
import type { Spread } from '../lib/stats.js';
import {
  buildTemplateBodies,
  chooseTemplateRates,
  cpuPerNotification,
  judgeSaturatedRatio,
  templateWithinTenPercent,
} from '../lib/template-bodies.js';
import type { TemplateBenchChannel, TemplateRates } from '../lib/template-bodies.js';
import { judgeRatio } from '../lib/verdict.js';
import type { JudgedRatio } from '../lib/verdict.js';
import type { E2ePoint } from './e2e.js';
import { e2eRound, startGatewayAndIngest } from './e2e.js';

/** One kind of send (plain content or template) over the rounds of one channel. */
export interface TemplateE2eSide {
  /** Saturation rounds: delivered/s (first 202 → last sink receipt). */
  deliveredPerSec: Spread;
  /** Latency rounds (same offered rate for both kinds): 202 → sink p50/p99, ms. */
  p50Ms: Spread;
  p99Ms: Spread;
  /** Largest share of accepted notifications not delivered within a round's drain timeout (0 = all arrived). */
  maxUndeliveredShare: number;
  /** Notifications delivered over every round of this kind. */
  delivered: number;
}

/** Template vs plain end to end on one channel. */
export interface TemplateE2eChannel {
  channel: TemplateBenchChannel;
  rates: TemplateRates & { warmupOfferedPerSec: number };
  plainRequestBytes: number;
  templateRequestBytes: number;
  renderedContentBytes: number;
  plain: TemplateE2eSide;
  template: TemplateE2eSide;
  /** template ÷ plain delivered/s at saturation (≥ 0.9 meets the criterion). */
  throughput: JudgedRatio;
  /** template ÷ plain p50 latency at the same offered rate (≤ 1.1 meets it). */
  latencyP50: JudgedRatio;
  latencyP99: JudgedRatio;
  met: boolean;
  /** CPU ms per delivered notification per process (utime + stime from /proc), plain and template rounds. */
  cpuMsPerNotification: Record<string, { plainMs: number; templateMs: number; deltaMs: number }>;
}

/** Results of the `templates-e2e` phase. */
export interface TemplateE2eResults {
  rounds: number;
  stepMs: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  channels: TemplateE2eChannel[];
  /** With `--profile`: top self-time frames of each channel worker (start-up left out). */
  profiles?: Array<{ worker: string; file: string; busyMs: number; frames: FrameSelfTime[]; areas: unknown[] }>;
}

/** A view of the sinks that reads `channel`'s messages (e2eRound polls `received()`). */
function sinksFor(sinks: SinksProcess, channel: TemplateBenchChannel): SinksProcess {
  return { ...sinks, received: () => sinks.received(channel) };
}

/** Workflow worker plus one email and one SMS channel worker, each its own process, on task queues of `prefix`. */
async function startTemplateWorkers(
  ctx: BenchContext,
  prefix: string,
  sinks: SinksProcess,
  profileDir: string | undefined,
): Promise<Component[]> {
  const env = ctx.env({
    TEMPORAL_TASK_QUEUE_PREFIX: prefix,
    SMS_BASE_URL: sinks.url,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(sinks.smtpPort),
    WORKER_SHUTDOWN_GRACE_MS: '2000',
  });
  const ready = whenOutput(/workers running/);
  const worker = (name: string, args: string[], profiled: boolean) =>
    startComponent({
      name,
      script: 'src/workers/main.ts',
      args,
      nodeArgs: profiled && profileDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)] : [],
      env,
      logDir: ctx.logDir,
      ready,
      readyTimeoutMs: 180_000,
    });
  return Promise.all([
    worker('tpl-worker-workflows', ['--workflows'], false),
    worker('tpl-worker-email', ['--channels', 'email'], true),
    worker('tpl-worker-sms', ['--channels', 'sms'], true),
  ]);
}

/**
 * Template send vs plain send end to end (issue 15): HTTP POST to the real gateway → Kafka → ingest → notification
 * workflow → channel worker → dev sink, on private Kafka + Temporal, for email (MJML) and SMS. Per channel, after a
 * warm-up that finds the pipeline's capacity, rounds interleaved A B (order alternating per round) on the same
 * processes: plain content (the template's own output for the same data) and `template: "welcome"` + `data`, each
 * once at the same sub-saturation rate (latency 202 → sink) and once above capacity (delivered/s).
 */
export async function templatesE2ePhase(ctx: BenchContext, options: { profile: boolean }): Promise<TemplateE2eResults> {
  const loadAverageAtStart = loadavg();
  ctx.log(
    `templates-e2e: template vs plain end to end, email + SMS; load average ${loadAverageAtStart.map((l) => l.toFixed(1)).join(' / ')}`,
  );
  const store = await loadTemplateStore({ dir: join(repoRoot(), 'templates'), defaultLocale: 'en' });
  const profileDir = options.profile ? join(ctx.logDir, 'cpu-profiles-templates') : undefined;
  const prefix = `tpl${ctx.runId}`;
  // Two rounds more than the plan's: one pair of 5–8 s windows on this shared box varies by ±20 % (seen in runs).
  const rounds = ctx.plan.rounds + 2;
  const sinks = await startSinksProcess(ctx);
  const started: Component[] = [sinks.component];
  const channels: TemplateE2eChannel[] = [];
  let workers: Component[] = [];
  try {
    workers = await startTemplateWorkers(ctx, prefix, sinks, profileDir);
    started.push(...workers);
    const { url, group, topic, gateway, ingest } = await startGatewayAndIngest(ctx, prefix, {}, 'tpl');
    started.push(gateway, ingest);
    for (const channel of ['sms', 'email'] as const) {
      const view = sinksFor(sinks, channel);
      const bodies = await buildTemplateBodies(store, channel);
      const channelWorker = workers.find((w) => w.name === `tpl-worker-${channel}`);
      const tracker = new ProcTracker(() => ({
        gateway: gateway.pid,
        ingest: ingest.pid,
        'worker (workflows)': workers[0]?.pid,
        [`worker (${channel})`]: channelWorker?.pid,
        sinks: sinks.component.pid,
        ...ctx.infra.serverPids(),
      }));
      const round = (rate: number, kind: 'plain' | 'template') =>
        e2eRound(ctx, url, view, group, topic, rate, kind === 'plain' ? bodies.plain : bodies.template);
      ctx.log(
        `  ${channel}: request ${bodies.plainRequestBytes} B plain vs ${bodies.templateRequestBytes} B template; rendered content ${bodies.renderedContentBytes} B (identical at the sink)`,
      );
      // Warm-up above the expected capacity: JIT, connections, sticky caches; its delivered/s sets both rates.
      const warmupOffered = 60;
      const warm = await round(warmupOffered, 'plain');
      const rates = { ...chooseTemplateRates(warmupOffered, warm.deliveredPerSec), warmupOfferedPerSec: warmupOffered };
      await round(rates.latencyPerSec, 'template');
      ctx.log(
        `  ${channel}: warm-up ${warm.deliveredPerSec.toFixed(1)}/s delivered of ${warmupOffered}/s (${rates.warmupSaturated ? 'saturated' : 'NOT saturated'}) → latency rounds at ${rates.latencyPerSec}/s, saturation rounds at ${rates.saturationPerSec}/s`,
      );
      const points: Record<'plain' | 'template', { lat: E2ePoint[]; sat: E2ePoint[] }> = {
        plain: { lat: [], sat: [] },
        template: { lat: [], sat: [] },
      };
      const cpu: Record<'plain' | 'template', Record<string, number>> = { plain: {}, template: {} };
      const measure = async (kind: 'plain' | 'template', which: 'lat' | 'sat') => {
        // The previous round's last workflows complete after their sink receipt: let them finish first.
        await sleep(1_500);
        tracker.begin();
        const p = await round(which === 'lat' ? rates.latencyPerSec : rates.saturationPerSec, kind);
        for (const [name, u] of Object.entries(tracker.end())) cpu[kind][name] = (cpu[kind][name] ?? 0) + u.cpuSeconds;
        points[kind][which].push(p);
        return p;
      };
      for (let r = 0; r < rounds; r++) {
        const order: Array<'plain' | 'template'> = r % 2 === 0 ? ['plain', 'template'] : ['template', 'plain'];
        for (const kind of order) await measure(kind, 'lat');
        for (const kind of order) await measure(kind, 'sat');
        const last = (kind: 'plain' | 'template') => {
          const lat = points[kind].lat[r];
          const sat = points[kind].sat[r];
          return `${kind} ${sat?.deliveredPerSec.toFixed(1)}/s, p50 ${lat?.p50Ms.toFixed(0)} ms p99 ${lat?.p99Ms.toFixed(0)} ms`;
        };
        ctx.log(
          `  ${channel} round ${r + 1} (${order.join(' first, ')} second): ${last('plain')}; ${last('template')}`,
        );
      }
      const side = (kind: 'plain' | 'template'): TemplateE2eSide => {
        const all = [...points[kind].lat, ...points[kind].sat];
        return {
          deliveredPerSec: spreadOf(points[kind].sat.map((p) => p.deliveredPerSec)),
          p50Ms: spreadOf(points[kind].lat.map((p) => p.p50Ms)),
          p99Ms: spreadOf(points[kind].lat.map((p) => p.p99Ms)),
          maxUndeliveredShare: Math.max(0, ...all.map((p) => p.undeliveredShare)),
          delivered: all.reduce((s, p) => s + p.deliveredCount, 0),
        };
      };
      const plain = side('plain');
      const template = side('template');
      const throughput = judgeSaturatedRatio(
        template.deliveredPerSec.rounds,
        plain.deliveredPerSec.rounds,
        rates.saturationPerSec,
      );
      const latencyP50 = judgeRatio(template.p50Ms.rounds, plain.p50Ms.rounds);
      const latencyP99 = judgeRatio(template.p99Ms.rounds, plain.p99Ms.rounds);
      const result: TemplateE2eChannel = {
        channel,
        rates,
        plainRequestBytes: bodies.plainRequestBytes,
        templateRequestBytes: bodies.templateRequestBytes,
        renderedContentBytes: bodies.renderedContentBytes,
        plain,
        template,
        throughput,
        latencyP50,
        latencyP99,
        met: templateWithinTenPercent(throughput, latencyP50),
        cpuMsPerNotification: cpuPerNotification(cpu.plain, cpu.template, plain.delivered, template.delivered),
      };
      ctx.log(
        `  ${channel}: template ÷ plain delivered/s ${describe(throughput)}, p50 ${describe(latencyP50)}, p99 ${describe(latencyP99)} → within 10 %: ${result.met ? 'yes' : 'no'}`,
      );
      ctx.log(
        `  ${channel}: CPU ms per notification plain → template: ${Object.entries(result.cpuMsPerNotification)
          .map(([k, v]) => `${k} ${v.plainMs.toFixed(1)} → ${v.templateMs.toFixed(1)}`)
          .join(', ')}`,
      );
      channels.push(result);
    }
  } finally {
    for (const c of started.reverse()) await c.stop();
  }
  const profiles = profileDir !== undefined ? readProfiles(profileDir) : undefined;
  const loadAverageAtEnd = loadavg();
  ctx.log(`templates-e2e: load average at end ${loadAverageAtEnd.map((l) => l.toFixed(1)).join(' / ')}`);
  return {
    rounds,
    stepMs: ctx.plan.e2eStepMs,
    loadAverageAtStart,
    loadAverageAtEnd,
    channels,
    profiles,
  };
}

function describe(r: JudgedRatio): string {
  return r.validity === 'ok'
    ? `${r.value.toFixed(3)} (rounds ${r.perRound.min.toFixed(2)}–${r.perRound.max.toFixed(2)})`
    : `${r.validity.toUpperCase()} (${r.reason ?? ''})`;
}

/** Top frames of each channel worker's profile, the first 20 s (start-up, warm-up) left out. */
function readProfiles(dir: string): TemplateE2eResults['profiles'] {
  const out: NonNullable<TemplateE2eResults['profiles']> = [];
  for (const worker of ['tpl-worker-email', 'tpl-worker-sms']) {
    let files: string[] = [];
    try {
      files = readdirSync(join(dir, worker)).filter((f) => f.endsWith('.cpuprofile'));
    } catch {
      continue;
    }
    for (const f of files) {
      const file = join(dir, worker, f);
      const top = topFrames(file, 25, repoRoot(), 20_000);
      out.push({
        worker,
        file,
        busyMs: top.totalMs,
        frames: top.frames,
        areas: selfTimeByArea(file, repoRoot(), 20_000).slice(0, 12),
      });
    }
  }
  return out;
}
