import type { Admin } from 'kafkajs';
import type { Component } from '../lib/components.js';
import { startComponent, whenHttpOk, whenOutput } from '../lib/components.js';
import type { BenchContext } from '../lib/context.js';
import { createTopic, mapConcurrent, sleep } from '../lib/context.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { benchRequestJson } from '../lib/payload.js';
import { freePort } from '../lib/private-infra.js';
import type { ProcUsage } from '../lib/proc-stats.js';
import { ProcTracker } from '../lib/proc-stats.js';
import type { SinksProcess } from '../lib/sinks-client.js';
import { waitForDeliveries } from '../lib/sinks-client.js';
import { median, medianOf, spreadOf, summarize } from '../lib/stats.js';
import type { Spread } from '../lib/stats.js';
import { CEILING_NOISE, judgeRatio } from '../lib/verdict.js';
import type { JudgedRatio } from '../lib/verdict.js';
import { minimalCeilingRound, startMinimalWorker } from './reference.js';
import { ceilingRound } from './temporal.js';

/** One offered end-to-end load (medians over rounds). */
export interface E2ePoint {
  offeredPerSec: number;
  acceptedPerSec: number;
  /** Notifications delivered per second, first 202 → last sink receipt. */
  deliveredPerSec: number;
  /** 202 → sink receipt. */
  p50Ms: number;
  p99Ms: number;
  /** Share of accepted notifications not delivered within the drain timeout. */
  undeliveredShare: number;
  /** Consumer lag (records not yet committed by ingest): highest and at the end of the load window. */
  maxLag: number;
  endLag: number;
  /** Temporal schedule-to-start (from sampled workflow histories): activity and first workflow task, p50/p99 ms. */
  activityS2sP50Ms: number;
  activityS2sP99Ms: number;
  workflowTaskS2sP99Ms: number;
  /** History events per notification (median over the sampled workflows' histories). */
  historyEvents: number;
  /** Notifications delivered in this step. */
  deliveredCount: number;
  /** Lag and schedule-to-start stayed bounded (see README): 1 = yes, 0 = no (numeric so rounds can be medianed). */
  bounded: number;
}

/** Throughput rounds interleaved on the same server: minimal workflow, notify started directly, notify end to end. */
export interface E2eThroughput {
  minimalPerSec: Spread;
  ceilingPerSec: Spread;
  e2ePerSec: Spread;
  e2eOverCeiling: JudgedRatio;
  e2eOverMinimal: JudgedRatio;
  ceilingOverMinimal: JudgedRatio;
  /**
   * CPU ms per completed workflow over the throughput rounds (all rounds of a kind summed): the minimal workflow
   * (Temporal, its worker) and notify's workflow started directly (Temporal, workflow worker, SMS worker).
   */
  cpuMsPerWorkflow?: { minimal: Record<string, number>; notifyDirect: Record<string, number> };
}

/** Results of the end-to-end ladder. */
export interface E2eResults {
  ceilingPerSec: number;
  throughput?: E2eThroughput;
  points: E2ePoint[];
  /** Highest offered load with bounded lag and schedule-to-start. */
  maxBoundedPerSec: number;
  /** Resource use per process over the whole ladder, per 1,000 delivered notifications. */
  resources: Record<string, ProcUsage & { cpuSecondsPer1000: number }>;
  delivered: number;
  /**
   * Profile-resolved vs explicit-address sends at the same offered load in the same run (alternating rounds,
   * medians): delivered/s of each and their ratio (profile / explicit).
   */
  recipients?: {
    offeredPerSec: number;
    explicitPerSec: number;
    profilePerSec: number;
    ratio: number;
    explicitP50Ms: number;
    profileP50Ms: number;
  };
}

/** Recipients the profile-resolved rounds address (one SMS number each, created over the API before the rounds). */
const BENCH_RECIPIENTS = 200;

function profileRequestJson(i: number): string {
  return JSON.stringify({
    recipient: `bench-${i % BENCH_RECIPIENTS}`,
    category: 'bench',
    deliveries: [{ channel: 'sms', content: { body: `bench message ${i}` } }],
  });
}

function tsMs(ts: unknown): number {
  // Protobuf timestamps carry `seconds` as a number or a Long.
  const t = ts as { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;
  if (t?.seconds === undefined || t.seconds === null) return Number.NaN;
  const seconds = typeof t.seconds === 'number' ? t.seconds : t.seconds.toNumber();
  return seconds * 1000 + (t.nanos ?? 0) / 1e6;
}

/** Schedule-to-start of activity and first workflow task, read from the histories of sampled workflows. */
async function scheduleToStart(
  ctx: BenchContext,
  ids: string[],
): Promise<{ activity: number[]; workflowTask: number[]; events: number[] }> {
  const activity: number[] = [];
  const workflowTask: number[] = [];
  const events: number[] = [];
  await mapConcurrent(ids, 8, async (id) => {
    try {
      const history = await ctx.temporal.workflow.getHandle(id).fetchHistory();
      events.push(history.events?.length ?? 0);
      let actScheduled: number | undefined;
      let wftScheduled: number | undefined;
      let wftDone = false;
      for (const e of history.events ?? []) {
        const at = tsMs(e.eventTime);
        if (e.workflowTaskScheduledEventAttributes && !wftDone) wftScheduled = at;
        if (e.workflowTaskStartedEventAttributes && !wftDone && wftScheduled !== undefined) {
          workflowTask.push(at - wftScheduled);
          wftDone = true;
        }
        if (e.activityTaskScheduledEventAttributes) actScheduled = at;
        if (e.activityTaskStartedEventAttributes && actScheduled !== undefined) {
          activity.push(at - actScheduled);
          actScheduled = undefined;
        }
      }
    } catch {
      // A history that cannot be read is left out of the sample.
    }
  });
  return { activity, workflowTask, events };
}

/**
 * Consumer lag of `group` on `topic`: end offsets minus committed offsets, summed over partitions. One admin client
 * per round, connected once: a new connection per sample would bill Kafka (and the box) for the bench's own probing.
 */
async function lagOf(admin: Admin, group: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  ]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return ends.reduce((sum, p) => sum + Math.max(0, Number(p.high) - (done.get(p.partition) ?? 0)), 0);
}

/** One open-loop round at `rate`/s through gateway → Kafka → ingest → Temporal → SMS worker → sink. */
export async function e2eRound(
  ctx: BenchContext,
  url: string,
  sinks: SinksProcess,
  group: string,
  topic: string,
  rate: number,
  body: (i: number) => string = benchRequestJson,
): Promise<E2ePoint> {
  await sinks.reset();
  const acceptedAt = new Map<string, number>();
  const lags: number[] = [];
  let sampling = true;
  const admin = ctx.kafka.admin();
  await admin.connect();
  const sampler = (async () => {
    while (sampling) {
      lags.push(await lagOf(admin, group, topic).catch(() => Number.NaN));
      await sleep(500);
    }
  })();
  const load = await runOpenLoop({
    url,
    path: '/v1/notifications',
    ratePerSec: rate,
    durationMs: ctx.plan.e2eStepMs,
    body,
    connections: 64,
    headers: ctx.authHeaders,
    onAccepted: (body, at) => {
      const id = (body as { id?: unknown }).id;
      if (typeof id === 'string') acceptedAt.set(id, at);
    },
  });
  const endLag = await lagOf(admin, group, topic).catch(() => Number.NaN);
  sampling = false;
  await sampler;
  await admin.disconnect();
  const firstAccept = Math.min(...acceptedAt.values());
  const arrivals = await waitForDeliveries(sinks, new Set(acceptedAt.keys()), 60_000);
  const lastArrival = Math.max(...arrivals.values());
  const latencies = [...arrivals].map(([id, at]) => at - (acceptedAt.get(id) ?? at));
  const lat = summarize(latencies);
  const ids = [...arrivals.keys()];
  const sample = Array.from(
    { length: Math.min(24, ids.length) },
    (_, i) => ids[Math.floor((i * ids.length) / Math.min(24, ids.length))] as string,
  );
  const s2s = await scheduleToStart(ctx, sample);
  const act = summarize(s2s.activity);
  const wft = summarize(s2s.workflowTask);
  const finiteLags = lags.filter(Number.isFinite);
  const point: E2ePoint = {
    offeredPerSec: rate,
    acceptedPerSec: load.acceptedPerSec,
    deliveredPerSec: arrivals.size > 0 ? (arrivals.size * 1000) / Math.max(1, lastArrival - firstAccept) : 0,
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    undeliveredShare: acceptedAt.size > 0 ? 1 - arrivals.size / acceptedAt.size : 1,
    maxLag: Math.max(0, ...finiteLags),
    endLag,
    activityS2sP50Ms: act.p50,
    activityS2sP99Ms: act.p99,
    workflowTaskS2sP99Ms: wft.p99,
    historyEvents: summarize(s2s.events).p50,
    deliveredCount: arrivals.size,
    bounded: 0,
  };
  // Bounded: ingest is at most ~1 s of load behind when the window ends, and tasks wait < 1 s for a worker.
  point.bounded =
    endLag <= Math.max(100, rate) && act.p99 < 1_000 && wft.p99 < 1_000 && point.undeliveredShare === 0 ? 1 : 0;
  return point;
}

/** CPU seconds of some processes summed over rounds, and the workflows those rounds completed. */
class CpuPerWorkflow {
  private readonly cpu: Record<string, number> = {};
  private completed = 0;

  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  async round<T>(run: (counter: { completed: number }) => Promise<T>): Promise<T> {
    const tracker = new ProcTracker(this.pids);
    const counter = { completed: 0 };
    tracker.begin();
    const result = await run(counter);
    for (const [name, u] of Object.entries(tracker.end())) this.cpu[name] = (this.cpu[name] ?? 0) + u.cpuSeconds;
    this.completed += counter.completed;
    return result;
  }

  perWorkflowMs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of Object.entries(this.cpu))
      out[name] = this.completed > 0 ? (s * 1000) / this.completed : Number.NaN;
    return out;
  }
}

/** Gateway and ingest processes of an end-to-end measurement, on their own topic and consumer group. */
export async function startGatewayAndIngest(
  ctx: BenchContext,
  workerPrefix: string,
  env: Record<string, string>,
  label: string,
): Promise<{ url: string; group: string; topic: string; gateway: Component; ingest: Component }> {
  const topic = `bench-${ctx.runId}-${label}`;
  const group = `${topic}-ingest`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const common = {
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_CONSUMER_GROUP: group,
    TEMPORAL_TASK_QUEUE_PREFIX: workerPrefix,
    ...env,
  };
  await createTopic(ctx, topic, 6);
  const gateway = await startComponent({
    name: `${label}-gateway`,
    script: 'src/api/main.ts',
    env: ctx.env({ ...common, HTTP_PORT: String(port), LOG_LEVEL: 'warn' }),
    logDir: ctx.logDir,
    ready: whenHttpOk(`${url}/readyz`),
  });
  try {
    const ingest = await startComponent({
      name: `${label}-ingest`,
      script: 'src/ingest/main.ts',
      env: ctx.env(common),
      logDir: ctx.logDir,
      ready: whenOutput(/ingest consuming/),
    });
    return { url, group, topic, gateway, ingest };
  } catch (err) {
    await gateway.stop();
    throw err;
  }
}

/** The processes whose CPU and peak RSS an end-to-end measurement reports: notify's, the sinks and the servers. */
export function componentPids(
  ctx: BenchContext,
  gateway: Component,
  ingest: Component,
  workers: Component[],
  sinks: SinksProcess,
): Record<string, number | undefined> {
  return {
    gateway: gateway.pid,
    ingest: ingest.pid,
    'worker (workflows)': workers[0]?.pid,
    'worker (sms)': workers[1]?.pid,
    sinks: sinks.component.pid,
    ...ctx.infra.serverPids(),
  };
}

/**
 * End to end: gateway, ingest and workers as separate processes on the private Kafka + Temporal, open-loop load at
 * fractions of the Temporal ceiling, latency 202 → sink receipt, consumer lag, schedule-to-start, resource use.
 */
export async function e2ePhase(
  ctx: BenchContext,
  ceilingPerSec: number,
  sinks: SinksProcess,
  workers: Component[],
  workerPrefix: string,
  env: Record<string, string>,
): Promise<E2eResults> {
  const started: Component[] = [];
  const { url, group, topic, gateway, ingest } = await startGatewayAndIngest(ctx, workerPrefix, env, 'e2e');
  started.push(gateway, ingest);
  try {
    const tracker = new ProcTracker(() => componentPids(ctx, gateway, ingest, workers, sinks));
    ctx.log(
      `e2e: ladder at ${ctx.plan.e2eFractions.map((f) => `${Math.round(f * 100)} %`).join(', ')} of the ceiling (${ceilingPerSec.toFixed(0)}/s)`,
    );
    // Warm-up through the whole path.
    await e2eRound(ctx, url, sinks, group, topic, Math.max(10, Math.round(ceilingPerSec / 4)));
    tracker.begin();
    let delivered = 0;
    const points: E2ePoint[] = [];
    for (const fraction of ctx.plan.e2eFractions) {
      const rate = Math.max(5, Math.round(ceilingPerSec * fraction));
      const rounds: E2ePoint[] = [];
      for (let r = 0; r < ctx.plan.e2eRounds; r++) {
        const point = await e2eRound(ctx, url, sinks, group, topic, rate);
        delivered += point.deliveredCount;
        rounds.push(point);
      }
      const point = medianOf(rounds);
      point.bounded = median(rounds.map((p) => p.bounded)) >= 0.5 ? 1 : 0;
      ctx.log(
        `  offered ${rate}/s: delivered ${point.deliveredPerSec.toFixed(0)}/s, 202→sink p50 ${point.p50Ms.toFixed(0)} ms p99 ${point.p99Ms.toFixed(0)} ms, ` +
          `lag max ${point.maxLag} end ${point.endLag}, activity s2s p99 ${point.activityS2sP99Ms.toFixed(0)} ms, wft s2s p99 ${point.workflowTaskS2sP99Ms.toFixed(0)} ms, ${point.historyEvents} history events, bounded ${point.bounded === 1 ? 'yes' : 'no'}`,
      );
      points.push(point);
    }
    const usage = tracker.end();
    const recipients = await compareRecipients(
      ctx,
      url,
      sinks,
      group,
      topic,
      Math.max(5, Math.round(ceilingPerSec * 0.5)),
    );
    const resources: E2eResults['resources'] = {};
    for (const [name, u] of Object.entries(usage))
      resources[name] = { ...u, cpuSecondsPer1000: delivered > 0 ? (u.cpuSeconds * 1000) / delivered : Number.NaN };

    // Throughput, A B C A B C on the same server: the minimal one-activity workflow, notify's workflow started
    // directly (its own ceiling), and notify end to end offered 25 % more than the best of the two.
    ctx.log(
      'e2e: interleaved throughput rounds: minimal one-activity workflow, notify started directly, notify end to end',
    );
    const minimalWorker = await startMinimalWorker(ctx, `min${ctx.runId}`);
    started.push(minimalWorker);
    await minimalCeilingRound(ctx, `min${ctx.runId}`, Math.min(2_000, ctx.plan.ceilingMs));
    const minimal: number[] = [];
    const ceiling: number[] = [];
    const e2e: number[] = [];
    const server = () => ({ temporal: ctx.infra.serverPids().temporal });
    const minimalCpu = new CpuPerWorkflow(() => ({ ...server(), 'worker (minimal)': minimalWorker.pid }));
    const notifyCpu = new CpuPerWorkflow(() => ({
      ...server(),
      'worker (workflows)': workers[0]?.pid,
      'worker (sms)': workers[1]?.pid,
    }));
    for (let r = 0; r < ctx.plan.rounds; r++) {
      minimal.push(
        await minimalCpu.round((counter) => minimalCeilingRound(ctx, `min${ctx.runId}`, ctx.plan.ceilingMs, counter)),
      );
      ceiling.push(
        (await notifyCpu.round((counter) => ceilingRound(ctx, workerPrefix, sinks, ctx.plan.ceilingMs, counter)))
          .deliveredPerSec,
      );
      const offered = Math.max(5, Math.round(1.25 * Math.max(minimal[r] ?? 0, ceiling[r] ?? 0)));
      e2e.push((await e2eRound(ctx, url, sinks, group, topic, offered)).deliveredPerSec);
      ctx.log(
        `  round ${r + 1}: minimal ${minimal[r]?.toFixed(1)}/s, notify direct ${ceiling[r]?.toFixed(1)}/s, notify end to end ${e2e[r]?.toFixed(1)}/s (offered ${offered}/s)`,
      );
    }
    const throughput: E2eThroughput = {
      minimalPerSec: spreadOf(minimal),
      ceilingPerSec: spreadOf(ceiling),
      e2ePerSec: spreadOf(e2e),
      e2eOverCeiling: judgeRatio(e2e, ceiling, { ceilingNoise: CEILING_NOISE }),
      e2eOverMinimal: judgeRatio(e2e, minimal),
      ceilingOverMinimal: judgeRatio(ceiling, minimal),
      cpuMsPerWorkflow: { minimal: minimalCpu.perWorkflowMs(), notifyDirect: notifyCpu.perWorkflowMs() },
    };
    const show = (m: Record<string, number>) =>
      Object.entries(m)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ');
    ctx.log(`  CPU ms per workflow: minimal ${show(throughput.cpuMsPerWorkflow?.minimal ?? {})}`);
    ctx.log(`  CPU ms per workflow: notify direct ${show(throughput.cpuMsPerWorkflow?.notifyDirect ?? {})}`);
    return {
      ceilingPerSec,
      throughput,
      points,
      maxBoundedPerSec: Math.max(0, ...points.filter((p) => p.bounded === 1).map((p) => p.offeredPerSec)),
      resources,
      delivered,
      recipients,
    };
  } finally {
    for (const c of started.reverse()) await c.stop();
  }
}

/**
 * The cost of resolution: creates {@link BENCH_RECIPIENTS} profiles over the API, then alternates explicit-address and
 * profile-resolved rounds at the same offered load (same processes, same run) and compares delivered/s.
 */
async function compareRecipients(
  ctx: BenchContext,
  url: string,
  sinks: SinksProcess,
  group: string,
  topic: string,
  rate: number,
): Promise<E2eResults['recipients']> {
  await mapConcurrent(
    Array.from({ length: BENCH_RECIPIENTS }, (_, i) => i),
    16,
    async (i) => {
      const res = await fetch(`${url}/v1/recipients/bench-${i}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...ctx.authHeaders },
        body: JSON.stringify({ addresses: { sms: `+1415556${String(i).padStart(4, '0')}` } }),
      });
      if (res.status !== 200 && res.status !== 201)
        throw new Error(`creating bench recipient ${i}: HTTP ${res.status} ${await res.text()}`);
    },
  );
  const explicit: E2ePoint[] = [];
  const profile: E2ePoint[] = [];
  for (let r = 0; r < Math.max(2, ctx.plan.e2eRounds); r++) {
    explicit.push(await e2eRound(ctx, url, sinks, group, topic, rate));
    profile.push(await e2eRound(ctx, url, sinks, group, topic, rate, profileRequestJson));
  }
  const e = medianOf(explicit);
  const p = medianOf(profile);
  const result = {
    offeredPerSec: rate,
    explicitPerSec: e.deliveredPerSec,
    profilePerSec: p.deliveredPerSec,
    ratio: e.deliveredPerSec > 0 ? p.deliveredPerSec / e.deliveredPerSec : Number.NaN,
    explicitP50Ms: e.p50Ms,
    profileP50Ms: p.p50Ms,
  };
  ctx.log(
    `  recipients at ${rate}/s: explicit ${result.explicitPerSec.toFixed(1)}/s (p50 ${e.p50Ms.toFixed(0)} ms), profile-resolved ${result.profilePerSec.toFixed(1)}/s (p50 ${p.p50Ms.toFixed(0)} ms), ratio ${result.ratio.toFixed(3)}`,
  );
  return result;
}
