import { join } from 'node:path';
import { buildWorkflowInput } from '../../src/ingest/workflow-input.js';
import type { Component } from '../lib/components.js';
import { startComponent, whenOutput } from '../lib/components.js';
import type { BenchContext } from '../lib/context.js';
import { createTopic, mapConcurrent, notificationClient, sleep } from '../lib/context.js';
import { benchEnvelope } from '../lib/payload.js';
import type { SinksProcess } from '../lib/sinks-client.js';
import { waitForDeliveries } from '../lib/sinks-client.js';
import { median, summarize } from '../lib/stats.js';

/** Ingest drain rate of one consumer configuration (median over rounds). */
export interface IngestFigure {
  name: string;
  env: Record<string, string>;
  recordsPerSec: number;
  /** Every round (interleaved with the bare start rounds). */
  rounds: number[];
}

/** The Temporal ceiling of one worker configuration: the workflow shape started directly, delivered at the sinks. */
export interface CeilingFigure {
  name: string;
  env: Record<string, string>;
  deliveredPerSec: number;
  p50Ms: number;
  p99Ms: number;
  rounds: number[];
}

/** Everything measured on one Temporal server (one pragma set). */
export interface PragmaResults {
  name: string;
  pragmas: string[];
  bareStartsPerSec: number;
  bareStartRounds: number[];
  ingest: IngestFigure[];
  ceilings: CeilingFigure[];
}

/** Bare baseline of ingest: the same `workflow.start` calls, issued directly at maximal concurrency (no Kafka). */
export async function bareStarts(ctx: BenchContext, prefix: string, n: number): Promise<number> {
  const config = ctx.config({ TEMPORAL_TASK_QUEUE_PREFIX: prefix });
  const client = notificationClient(ctx, prefix);
  const inputs = Array.from({ length: n }, (_, i) => benchEnvelope(i));
  const started = performance.now();
  await mapConcurrent(inputs, ctx.plan.bareStartConcurrency, async (envelope) => {
    await client.start(buildWorkflowInput(envelope, config), {
      bodyHash: envelope.bodyHash,
      clientId: envelope.clientId,
    });
  });
  return (n * 1000) / (performance.now() - started);
}

/** Writes `n` envelopes to a fresh topic with a bare batched producer. */
async function prefill(ctx: BenchContext, topic: string, n: number): Promise<void> {
  await createTopic(ctx, topic, 6);
  const producer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < n; i += 1_000) {
      const messages = Array.from({ length: Math.min(1_000, n - i) }, (_, j) => {
        const e = benchEnvelope(i + j);
        return {
          key: e.id,
          value: JSON.stringify(e),
          headers: { 'schema-version': '1', 'content-type': 'application/json' },
        };
      });
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Sum of committed offsets of `groupId` on `topic` (0 for partitions without a commit). */
export async function committedTotal(ctx: BenchContext, groupId: string, topic: string): Promise<number> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * One ingest round: pre-fill a fresh topic, start `npm run ingest` on it, and time the drain from the first committed
 * offset to the last (consumer start-up and group join are excluded).
 */
async function ingestRound(
  ctx: BenchContext,
  prefix: string,
  env: Record<string, string>,
  n: number,
  round: string,
): Promise<number> {
  const topic = `bench-${ctx.runId}-ingest-${round}`;
  const group = `${topic}-group`;
  await prefill(ctx, topic, n);
  const ingest = await startComponent({
    name: `ingest-${round}`,
    script: 'src/ingest/main.ts',
    env: ctx.env({
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_CONSUMER_GROUP: group,
      TEMPORAL_TASK_QUEUE_PREFIX: prefix,
      ...env,
    }),
    logDir: ctx.logDir,
    ready: whenOutput(/ingest consuming/),
  });
  try {
    let first: { at: number; done: number } | undefined;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const done = await committedTotal(ctx, group, topic);
      const at = performance.now();
      if (first === undefined && done > 0) first = { at, done };
      if (done >= n) {
        if (first === undefined || first.done >= n) return Number.NaN;
        return ((n - first.done) * 1000) / (at - first.at);
      }
      if (Date.now() > deadline) throw new Error(`ingest drained only ${done} of ${n} records in 5 minutes`);
      await sleep(100);
    }
  } finally {
    await ingest.stop();
  }
}

/** Starts the workflow worker and the SMS channel worker as two processes. */
export async function startWorkers(
  ctx: BenchContext,
  prefix: string,
  sinks: SinksProcess,
  env: Record<string, string>,
): Promise<Component[]> {
  const common = {
    TEMPORAL_TASK_QUEUE_PREFIX: prefix,
    SMS_BASE_URL: sinks.url,
    WORKER_SHUTDOWN_GRACE_MS: '2000',
    ...env,
  };
  const ready = whenOutput(/workers running/);
  const nodeArgs =
    ctx.plan.profileWorkers === true ? ['--cpu-prof', '--cpu-prof-dir', join(ctx.logDir, 'cpu-profiles')] : [];
  return Promise.all([
    startComponent({
      name: 'worker-workflows',
      script: 'src/workers/main.ts',
      args: ['--workflows'],
      nodeArgs,
      env: ctx.env(common),
      logDir: ctx.logDir,
      ready,
      readyTimeoutMs: 180_000,
    }),
    startComponent({
      name: 'worker-sms',
      script: 'src/workers/main.ts',
      args: ['--channels', 'sms'],
      nodeArgs,
      env: ctx.env(common),
      logDir: ctx.logDir,
      ready,
      readyTimeoutMs: 180_000,
    }),
  ]);
}

/**
 * Completions per second in the steady part of a closed-loop window: those finishing in the last two thirds of it.
 * The first third is the lanes' ramp-up (no completion can arrive before one workflow latency), which a count over the
 * whole window would mix in — at latencies near the window length that reported a ceiling of 0–1/s.
 */
export function steadyRate(completionMs: readonly number[], durationMs: number): number {
  const from = durationMs / 3;
  return (completionMs.filter((t) => t >= from && t <= durationMs).length * 1000) / (durationMs - from);
}

/**
 * The Temporal ceiling: the notification workflow started directly (no HTTP, no Kafka) by `ceilingLanes` closed-loop
 * lanes, each starting a workflow and waiting for its result, for `durationMs`. Closed loop keeps the backlog bounded,
 * so the figure is the sustainable completion rate, not the speed of piling up starts.
 */
export async function ceilingRound(
  ctx: BenchContext,
  prefix: string,
  sinks: SinksProcess,
  durationMs: number,
  /** Counts every completed workflow of the round (for CPU per workflow). */
  counter?: { completed: number },
): Promise<{ deliveredPerSec: number; p50Ms: number; p99Ms: number }> {
  await sinks.reset();
  const config = ctx.config({ TEMPORAL_TASK_QUEUE_PREFIX: prefix });
  const client = notificationClient(ctx, prefix);
  const startedAt = new Map<string, number>();
  const completions: number[] = [];
  const t0 = performance.now();
  const lane = async (first: number) => {
    for (let i = first; performance.now() - t0 < durationMs; i += ctx.plan.ceilingLanes) {
      const envelope = benchEnvelope(i);
      startedAt.set(envelope.id, Date.now());
      await client.start(buildWorkflowInput(envelope, config), {
        bodyHash: envelope.bodyHash,
        clientId: envelope.clientId,
      });
      await ctx.temporal.workflow.getHandle(envelope.id).result();
      completions.push(performance.now() - t0);
      if (counter !== undefined) counter.completed += 1;
    }
  };
  await Promise.all(Array.from({ length: ctx.plan.ceilingLanes }, (_, i) => lane(i)));
  const arrivals = await waitForDeliveries(sinks, new Set(startedAt.keys()), 30_000);
  const lat = summarize([...arrivals].map(([id, at]) => at - (startedAt.get(id) ?? at)));
  return { deliveredPerSec: steadyRate(completions, durationMs), p50Ms: lat.p50, p99Ms: lat.p99 };
}

/**
 * On the Temporal server currently running (one pragma set): bare start rate, ingest drain rate per consumer
 * variant, and the Temporal ceiling per worker variant. Starts nothing it does not stop, except the workers of the
 * last worker variant, which are returned for the end-to-end ladder when `keepWorkers` is set.
 */
export async function temporalPhase(
  ctx: BenchContext,
  pragmaName: string,
  sinks: SinksProcess,
  keepWorkers: boolean,
): Promise<{ results: PragmaResults; workers?: Component[]; workerPrefix: string }> {
  const { plan } = ctx;
  const tag = pragmaName.toLowerCase().replace(/[^a-z0-9]/g, '');
  ctx.log(`temporal [${pragmaName}]: bare starts, ingest drain, ceiling`);
  // Starts for the start-only measurements go to a task queue no worker polls: they stay open and cost nothing more.
  const idlePrefix = `idle${tag}`;
  // Interleaved: bare starts, then each ingest variant, per round (A B A B), so the ratio compares like with like.
  const bare: number[] = [];
  const ingestRounds = plan.ingestVariants.map((): number[] => []);
  for (let r = 0; r < plan.rounds; r++) {
    bare.push(await bareStarts(ctx, idlePrefix, plan.ingestRecords));
    for (const [i, variant] of plan.ingestVariants.entries())
      ingestRounds[i]?.push(
        await ingestRound(ctx, idlePrefix, variant.env, plan.ingestRecords, `${tag}-${variant.name}-${r}`),
      );
  }
  const bareStartsPerSec = median(bare);
  ctx.log(
    `  bare workflow.start ×${plan.bareStartConcurrency} concurrent: ${bareStartsPerSec.toFixed(0)} starts/s (rounds: ${bare.map((v) => v.toFixed(0)).join(', ')})`,
  );
  const ingest: IngestFigure[] = plan.ingestVariants.map((variant, i) => {
    const rounds = ingestRounds[i] ?? [];
    const recordsPerSec = median(rounds);
    ctx.log(
      `  ingest[${variant.name}]: ${recordsPerSec.toFixed(0)} records/s → started workflows (rounds: ${rounds.map((v) => v.toFixed(0)).join(', ')})`,
    );
    return { name: variant.name, env: variant.env, recordsPerSec, rounds };
  });

  const ceilings: CeilingFigure[] = [];
  let workers: Component[] | undefined;
  const workerPrefix = `wf${tag}`;
  for (const [index, variant] of plan.workerVariants.entries()) {
    const prefix = `${workerPrefix}${index}`;
    workers = await startWorkers(ctx, prefix, sinks, variant.env);
    try {
      // Warm-up: workflow bundle loaded into the isolate, sticky caches and connections.
      await ceilingRound(ctx, prefix, sinks, Math.min(2_000, plan.ceilingMs));
      const rounds: Array<{ deliveredPerSec: number; p50Ms: number; p99Ms: number }> = [];
      for (let r = 0; r < plan.rounds; r++) rounds.push(await ceilingRound(ctx, prefix, sinks, plan.ceilingMs));
      const figure: CeilingFigure = {
        name: variant.name,
        env: variant.env,
        deliveredPerSec: median(rounds.map((x) => x.deliveredPerSec)),
        p50Ms: median(rounds.map((x) => x.p50Ms)),
        p99Ms: median(rounds.map((x) => x.p99Ms)),
        rounds: rounds.map((x) => x.deliveredPerSec),
      };
      ctx.log(
        `  ceiling[${variant.name}]: ${figure.deliveredPerSec.toFixed(0)} delivered/s, start→sink p50 ${figure.p50Ms.toFixed(0)} ms p99 ${figure.p99Ms.toFixed(0)} ms`,
      );
      ceilings.push(figure);
    } finally {
      const last = index === plan.workerVariants.length - 1;
      if (!(keepWorkers && last)) {
        await Promise.all(workers.map((w) => w.stop()));
        workers = undefined;
      }
    }
  }
  return {
    results: {
      name: pragmaName,
      pragmas: ctx.infra.pragmas,
      bareStartsPerSec,
      bareStartRounds: bare,
      ingest,
      ceilings,
    },
    workers,
    workerPrefix: `${workerPrefix}${plan.workerVariants.length - 1}`,
  };
}
