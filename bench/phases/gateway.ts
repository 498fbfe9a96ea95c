import type { Component } from '../lib/components.js';
import { startComponent, whenHttpOk, whenOutput } from '../lib/components.js';
import type { BenchContext } from '../lib/context.js';
import { createTopic, sleep } from '../lib/context.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { benchRecord, benchRequestJson } from '../lib/payload.js';
import { freePort } from '../lib/private-infra.js';
import { medianOf, summarize } from '../lib/stats.js';

/** One offered rate of an open-loop HTTP step (medians over rounds). */
export interface HttpPoint {
  offeredPerSec: number;
  acceptedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** Non-2xx, errors and unanswered requests (share of issued). */
  failedShare: number;
}

/** A target curve: one server configuration over the rate ladder. */
export interface HttpCurve {
  name: string;
  env: Record<string, string>;
  points: HttpPoint[];
  /** Highest accepted/s at any offered rate. */
  maxAcceptedPerSec: number;
  /** Highest offered rate served completely (≥ 99 % accepted) with p99 < 50 ms; 0 when none. */
  sustainedPerSec: number;
}

/** Results of the gateway phase. */
export interface GatewayResults {
  curves: HttpCurve[];
  bareFastify: HttpCurve;
  bareKafka: { recordsPerSec: number; batchRecords: number };
  /** The best gateway curve (highest sustained, then highest max). */
  best: string;
}

async function measureCurve(ctx: BenchContext, name: string, env: Record<string, string>, url: string): Promise<HttpCurve> {
  const { plan } = ctx;
  // Warm-up: connections, JIT, Kafka metadata.
  await runOpenLoop({ url, path: '/v1/notifications', ratePerSec: 300, durationMs: 1_000, body: benchRequestJson, connections: plan.gatewayConnections });
  const points: HttpPoint[] = [];
  for (const rate of plan.gatewayRates) {
    const rounds: HttpPoint[] = [];
    for (let r = 0; r < plan.rounds; r++) {
      const res = await runOpenLoop({ url, path: '/v1/notifications', ratePerSec: rate, durationMs: plan.gatewayStepMs, body: benchRequestJson, connections: plan.gatewayConnections });
      const lat = summarize(res.latenciesMs);
      rounds.push({ offeredPerSec: rate, acceptedPerSec: res.acceptedPerSec, p50Ms: lat.p50, p99Ms: lat.p99, p999Ms: lat.p999, failedShare: res.failed / Math.max(1, res.issued) });
      await sleep(300);
    }
    const point = medianOf(rounds);
    ctx.log(`  ${name} @ ${rate}/s: accepted ${point.acceptedPerSec.toFixed(0)}/s p50 ${point.p50Ms.toFixed(1)} ms p99 ${point.p99Ms.toFixed(1)} ms p99.9 ${point.p999Ms.toFixed(1)} ms failed ${(point.failedShare * 100).toFixed(1)} %`);
    points.push(point);
    // Far past saturation the next, higher rate only measures the same queue again.
    if (point.acceptedPerSec < 0.5 * rate) break;
  }
  return {
    name,
    env,
    points,
    maxAcceptedPerSec: Math.max(...points.map((p) => p.acceptedPerSec)),
    sustainedPerSec: Math.max(0, ...points.filter((p) => p.failedShare <= 0.01 && p.acceptedPerSec >= 0.97 * p.offeredPerSec && p.p99Ms < 50).map((p) => p.offeredPerSec)),
  };
}

/** Baseline (a): a bare kafkajs idempotent producer (acks = -1) sending pre-built records in maximal batches. */
async function bareKafka(ctx: BenchContext, topic: string): Promise<{ recordsPerSec: number; batchRecords: number }> {
  const batchRecords = 1_000;
  const records = Array.from({ length: batchRecords * 4 }, (_, i) => benchRecord(i));
  const producer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const rounds: number[] = [];
  try {
    for (let r = 0; r < ctx.plan.rounds; r++) {
      let sent = 0;
      const started = performance.now();
      while (performance.now() - started < ctx.plan.gatewayStepMs) {
        const offset = (sent / batchRecords) % 4;
        await producer.send({ topic, acks: -1, messages: records.slice(offset * batchRecords, (offset + 1) * batchRecords) });
        sent += batchRecords;
      }
      rounds.push((sent * 1000) / (performance.now() - started));
    }
  } finally {
    await producer.disconnect();
  }
  const recordsPerSec = medianOf(rounds.map((v) => ({ v }))).v;
  ctx.log(`  bare kafkajs producer: ${recordsPerSec.toFixed(0)} records/s (batches of ${batchRecords}, acks=-1, idempotent)`);
  return { recordsPerSec, batchRecords };
}

/** Gateway accept throughput and latency per micro-batching variant, against both bare baselines. */
export async function gatewayPhase(ctx: BenchContext): Promise<GatewayResults> {
  ctx.log('gateway: open-loop HTTP ladder');
  const curves: HttpCurve[] = [];
  for (const variant of ctx.plan.gatewayVariants) {
    const topic = `bench-${ctx.runId}-gw-${variant.name}`;
    const port = await freePort();
    const env = { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq`, HTTP_PORT: String(port), LOG_LEVEL: 'warn', ...variant.env };
    const url = `http://127.0.0.1:${port}`;
    let gateway: Component | undefined;
    try {
      gateway = await startComponent({ name: `gateway-${variant.name}`, script: 'src/api/main.ts', env: ctx.env(env), logDir: ctx.logDir, ready: whenHttpOk(`${url}/readyz`) });
      curves.push(await measureCurve(ctx, `gateway[${variant.name}]`, variant.env, url));
    } finally {
      await gateway?.stop();
    }
  }

  const barePort = await freePort();
  const bare = await startComponent({ name: 'bare-fastify', script: 'bench/bare-gateway.ts', args: [String(barePort)], env: ctx.env({}), logDir: ctx.logDir, ready: whenOutput(/listening \d+/) });
  let bareFastify: HttpCurve;
  try {
    bareFastify = await measureCurve(ctx, 'bare fastify+zod', {}, `http://127.0.0.1:${barePort}`);
  } finally {
    await bare.stop();
  }

  const bareTopic = `bench-${ctx.runId}-bare-producer`;
  await createTopic(ctx, bareTopic, 6);
  const kafka = await bareKafka(ctx, bareTopic);
  const best = [...curves].sort((a, b) => b.sustainedPerSec - a.sustainedPerSec || b.maxAcceptedPerSec - a.maxAcceptedPerSec)[0]?.name ?? '';
  return { curves, bareFastify, bareKafka: kafka, best };
}
