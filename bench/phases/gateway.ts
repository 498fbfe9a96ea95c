import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../dev/infra/index.js';
import type { Component } from '../lib/components.js';
import { startComponent, whenHttpOk, whenOutput } from '../lib/components.js';
import type { BenchContext } from '../lib/context.js';
import { createTopic, sleep } from '../lib/context.js';
import { selfTimeByArea, topFrames } from '../lib/cpu-profile.js';
import { runVegeta } from '../lib/vegeta.js';
import type { FrameSelfTime } from '../lib/cpu-profile.js';
import { benchRecord, benchRequest, benchRequestJson } from '../lib/payload.js';
import { freePort } from '../lib/private-infra.js';
import { median, spreadOf } from '../lib/stats.js';
import type { Spread } from '../lib/stats.js';
import { judgeRatio } from '../lib/verdict.js';
import type { JudgedRatio } from '../lib/verdict.js';
import { readProc } from '../lib/proc-stats.js';
import { busyShare, cpuBudget, readMachineCpu } from '../lib/cpu-budget.js';
import type { CpuBudget } from '../lib/cpu-budget.js';
import { runWrk } from '../lib/wrk.js';
import type { WrkResult } from '../lib/wrk.js';

/** One target measured with wrk over interleaved rounds. */
export interface WrkFigure {
  name: string;
  env: Record<string, string>;
  /** 2xx answers per second. */
  okPerSec: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** Non-2xx answers and socket errors/timeouts over all rounds. */
  errors: number;
  /** Highest share of its cores the wrk process used in any round (1 = its threads were always on a core). */
  generatorCpuShareMax: number;
  /** CPU ms per 2xx answer of the server process, and of Kafka during its rounds (the cost behind the rate). */
  cpuMsPerRequest: Spread;
  kafkaCpuMsPerRequest: Spread;
  /** wrk's own CPU ms per 2xx answer: the generator runs on the same cores. */
  generatorCpuMsPerRequest: Spread;
  /** Share of the whole machine's CPU that was busy during its rounds (1 = every core busy: the box was the limit). */
  machineBusyShare: Spread;
}

/** Results of the gateway phase. */
export interface GatewayResults {
  wrk: { threads: number; connections: number; durationSec: number; rounds: number };
  bare: WrkFigure;
  /** The gateway per variant (first = project defaults). */
  gateways: WrkFigure[];
  /** gateway ÷ bare per variant, judged (generator headroom, baseline stability). */
  ratios: Array<{ name: string; ratio: JudgedRatio }>;
  /**
   * Whether 0.6 × the bare route fits into this box's cores at the default gateway's measured CPU per request
   * (gateway + Kafka + wrk): a target that needs more cores than the box has is out of reach here, whatever the code's
   * parallelism.
   */
  budget: CpuBudget;
  /** Generator headroom: bare ÷ gateway (must be > 1) and wrk's own CPU share. */
  headroom: { bareOverGateway: number; generatorCpuShareMax: number; bound?: string };
  /** `POST /v1/notifications/batch` with `batchSize` items: requests/s and accepted notifications/s. */
  batch: { batchSize: number; requests: WrkFigure; notificationsPerSec: Spread; overSingle: number };
  /** Open-loop (own process) at 80 % of the gateway's wrk maximum: p99 to the 202. */
  openLoop: {
    /** vegeta (Go), or the Node generator of `bench/open-loop-cli.ts` when vegeta could not be built. */
    generator: 'vegeta' | 'node';
    /** The generator's CPU over the attack, in cores (vegeta only). */
    generatorCpuShare?: number;
    /** Offered rate as a fraction of the gateway's wrk maximum. */
    fractionOfMax?: number;
    /** Share of the box's CPU (all cores) busy during the attack. */
    machineBusyShare?: number;
    offeredPerSec: number;
    acceptedPerSec: number;
    p50Ms: number;
    p99Ms: number;
    p999Ms: number;
    failed: number;
    issueLagP99Ms: number;
    generatorBound: boolean;
  };
  /** The open loop at 40 %, 60 % and 80 % of the maximum (the last is `openLoop`). */
  openLoopLadder?: GatewayResults['openLoop'][];
  bareKafka: { recordsPerSec: number; batchRecords: number };
  /**
   * With `--profile`: top self-time frames of the gateway (default variant) under wrk, and of the `--gateway-from`
   * checkout's gateway (`compareProfile`), which serves only its wrk rounds (the default one also serves the batch
   * and open-loop rounds).
   */
  profile?: GatewayProfile;
  compareProfile?: GatewayProfile;
}

/** Self time of one gateway process under `node --cpu-prof`, start-up left out. */
export interface GatewayProfile {
  variant: string;
  file: string;
  skipMs: number;
  busyMs: number;
  /** Requests it accepted in its measured wrk rounds (the warm-up, batch and open-loop requests are not counted). */
  accepted: number;
  frames: FrameSelfTime[];
  areas: Array<{ area: string; selfMs: number; share: number }>;
}

type Round = WrkResult & { cpuMs: number; kafkaCpuMs: number; machineBusyShare: number };

function figure(name: string, env: Record<string, string>, rounds: Round[]): WrkFigure {
  const perOk = (ms: number, r: Round) => (r.okPerSec > 0 ? ms / (r.okPerSec * r.durationSec) : Number.NaN);
  return {
    cpuMsPerRequest: spreadOf(rounds.map((r) => perOk(r.cpuMs, r))),
    kafkaCpuMsPerRequest: spreadOf(rounds.map((r) => perOk(r.kafkaCpuMs, r))),
    generatorCpuMsPerRequest: spreadOf(rounds.map((r) => perOk(r.generatorCpuSec * 1000, r))),
    machineBusyShare: spreadOf(rounds.map((r) => r.machineBusyShare)),
    name,
    env,
    okPerSec: spreadOf(rounds.map((r) => r.okPerSec)),
    p50Ms: spreadOf(rounds.map((r) => r.p50Ms)),
    p99Ms: spreadOf(rounds.map((r) => r.p99Ms)),
    errors: rounds.reduce(
      (n, r) => n + r.errors.status + r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout,
      0,
    ),
    generatorCpuShareMax: Math.max(...rounds.map((r) => r.generatorCpuShare)),
  };
}

/** Baseline: a bare kafkajs idempotent producer (acks = -1) sending pre-built records in maximal batches. */
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
        await producer.send({
          topic,
          acks: -1,
          messages: records.slice(offset * batchRecords, (offset + 1) * batchRecords),
        });
        sent += batchRecords;
      }
      rounds.push((sent * 1000) / (performance.now() - started));
    }
  } finally {
    await producer.disconnect();
  }
  const recordsPerSec = median(rounds);
  ctx.log(
    `  bare kafkajs producer: ${recordsPerSec.toFixed(0)} records/s (batches of ${batchRecords}, acks=-1, idempotent)`,
  );
  return { recordsPerSec, batchRecords };
}

/** Runs the open-loop generator as its own process and returns its `OPEN_LOOP` summary. */
async function openLoopProcess(options: {
  url: string;
  path: string;
  ratePerSec: number;
  durationMs: number;
  connections: number;
  body: string;
  headers: Record<string, string>;
}): Promise<GatewayResults['openLoop']> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/open-loop-cli.ts', JSON.stringify(options)], {
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = /OPEN_LOOP (\{.*\})/.exec(out)?.[1];
  if (line === undefined) throw new Error(`open-loop generator printed no result:\n${out.slice(-2_000)}`);
  const r = JSON.parse(line) as Omit<GatewayResults['openLoop'], 'generatorBound' | 'generator'>;
  // The generator could not keep its schedule: latency would include its own lateness.
  return { ...r, generator: 'node', generatorBound: !(r.issueLagP99Ms < 10) };
}

/** The same open loop driven by vegeta ({@link runVegeta}): same schedule, latency from each scheduled send. */
async function vegetaOpenLoop(
  vegeta: string,
  options: Parameters<typeof openLoopProcess>[0],
): Promise<GatewayResults['openLoop']> {
  const r = await runVegeta(vegeta, {
    url: options.url,
    path: options.path,
    body: options.body,
    headers: options.headers,
    ratePerSec: options.ratePerSec,
    durationMs: options.durationMs,
    // Open loop: answers that take longer need more connections, never fewer requests.
    maxConnections: options.connections * 4,
  });
  return {
    generator: 'vegeta',
    offeredPerSec: r.offeredPerSec,
    acceptedPerSec: r.acceptedPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    p999Ms: r.p999Ms,
    failed: r.failed,
    issueLagP99Ms: r.issueLagP99Ms,
    generatorCpuShare: r.generatorCpuSec / (options.durationMs / 1000),
    generatorBound: !(r.issueLagP99Ms < 10),
  };
}

/**
 * Gateway accept throughput against the bare fastify + zod route, both driven by wrk (out of process) with the same
 * settings, interleaved A B A B; the ratio is judged for generator headroom and baseline stability. Then the batch
 * endpoint, the p99 at 80 % of the maximum (open loop, own process) and a bare kafkajs producer.
 */
export async function gatewayPhase(
  ctx: BenchContext,
  options: { profile?: boolean; compareDir?: string; vegeta?: string } = {},
): Promise<GatewayResults> {
  const { plan } = ctx;
  const wrkSettings = { threads: 1, connections: plan.gatewayConnections, durationSec: plan.gatewayWrkSec };
  ctx.log(
    `gateway: wrk -t${wrkSettings.threads} -c${wrkSettings.connections} -d${wrkSettings.durationSec}s, ${plan.rounds} interleaved rounds (bare, gateway…)`,
  );
  const started: Component[] = [];
  const profileDir = join(ctx.logDir, 'cpu-profiles');
  try {
    const barePort = await freePort();
    const bare = await startComponent({
      name: 'bare-fastify',
      script: 'bench/bare-gateway.ts',
      args: [String(barePort)],
      env: ctx.env({}),
      logDir: ctx.logDir,
      ready: whenOutput(/listening \d+/),
    });
    started.push(bare);
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const gateways: Array<{ name: string; env: Record<string, string>; url: string }> = [];
    // `--gateway-from <dir>`: the same gateway from another checkout's src/ (e.g. main), interleaved as one more target,
    // so a before/after ratio comes from one run on the same machine state.
    const variants: Array<{ name: string; env: Record<string, string>; script?: string; serviceFlags?: boolean }> = [
      ...plan.gatewayVariants,
    ];
    if (options.compareDir !== undefined)
      variants.push({
        name: `from ${options.compareDir}`,
        env: {},
        script: join(options.compareDir, 'src/api/main.ts'),
        // The other checkout as it ran: its own package.json decides its flags, not this checkout's harness.
        serviceFlags: false,
      });
    for (const [i, variant] of variants.entries()) {
      const topic = `bench-${ctx.runId}-gw-${i}`;
      const port = await freePort();
      const env = {
        KAFKA_TOPIC: topic,
        KAFKA_DLQ_TOPIC: `${topic}.dlq`,
        HTTP_PORT: String(port),
        LOG_LEVEL: 'warn',
        ...variant.env,
      };
      const url = `http://127.0.0.1:${port}`;
      const profiled = options.profile === true && (i === 0 || variant.script !== undefined);
      const variantProfileDir = join(profileDir, `variant${i}`);
      if (profiled) mkdirSync(variantProfileDir, { recursive: true });
      started.push(
        await startComponent({
          name: `gateway-${i === 0 ? variant.name : `variant${i}`}`,
          script: variant.script ?? 'src/api/main.ts',
          nodeArgs: profiled ? ['--cpu-prof', '--cpu-prof-dir', variantProfileDir] : [],
          serviceFlags: variant.serviceFlags,
          env: ctx.env(env),
          logDir: ctx.logDir,
          ready: whenHttpOk(`${url}/readyz`),
        }),
      );
      gateways.push({ name: `gateway[${variant.name}]`, env: variant.env, url });
    }
    const single = { path: '/v1/notifications', body: benchRequestJson(1), headers: ctx.authHeaders };
    const pidOf = new Map<string, number>([
      [bareUrl, bare.pid],
      ...gateways.map((g, i): [string, number] => [g.url, started[i + 1]?.pid ?? 0]),
    ]);
    const cpuMs = (pid: number | undefined) =>
      pid === undefined ? Number.NaN : (readProc(pid)?.cpuSeconds ?? Number.NaN) * 1000;
    /** One wrk round with the server's and Kafka's CPU time over it. */
    const measured = async (o: Parameters<typeof runWrk>[0]): Promise<Round> => {
      const pid = pidOf.get(o.url);
      const [s0, k0, m0] = [cpuMs(pid), cpuMs(ctx.infra.kafkaPid()), readMachineCpu()];
      const res = await runWrk(o);
      return {
        ...res,
        cpuMs: cpuMs(pid) - s0,
        kafkaCpuMs: cpuMs(ctx.infra.kafkaPid()) - k0,
        machineBusyShare: busyShare(m0, readMachineCpu()),
      };
    };
    // Warm-up: connections, JIT, Kafka metadata.
    for (const url of [bareUrl, ...gateways.map((g) => g.url)])
      await runWrk({ url, ...single, ...wrkSettings, durationSec: 2 });

    const bareRounds: Round[] = [];
    const gwRounds = gateways.map((): Round[] => []);
    for (let r = 0; r < plan.rounds; r++) {
      const b = await measured({ url: bareUrl, ...single, ...wrkSettings });
      bareRounds.push(b);
      ctx.log(
        `  round ${r + 1} bare fastify+zod: ${b.okPerSec.toFixed(0)} req/s p50 ${b.p50Ms.toFixed(1)} ms p99 ${b.p99Ms.toFixed(1)} ms (wrk CPU ${(b.generatorCpuShare * 100).toFixed(0)} %; CPU ms/request ${(b.cpuMs / Math.max(1, b.okPerSec * b.durationSec)).toFixed(3)})`,
      );
      // Subjects in a rotated order each round, so no variant always runs right after the baseline.
      for (let k = 0; k < gateways.length; k++) {
        const i = (k + r) % gateways.length;
        const g = gateways[i];
        if (g === undefined) continue;
        await sleep(300);
        const res = await measured({ url: g.url, ...single, ...wrkSettings });
        gwRounds[i]?.push(res);
        const per = (ms: number) => (ms / Math.max(1, res.okPerSec * res.durationSec)).toFixed(3);
        ctx.log(
          `  round ${r + 1} ${g.name}: ${res.okPerSec.toFixed(0)} accepted/s p50 ${res.p50Ms.toFixed(1)} ms p99 ${res.p99Ms.toFixed(1)} ms errors ${res.errors.status + res.errors.timeout} (wrk CPU ${(res.generatorCpuShare * 100).toFixed(0)} %; CPU ms/request gateway ${per(res.cpuMs)} kafka ${per(res.kafkaCpuMs)})`,
        );
      }
      await sleep(300);
    }
    const bareFig = figure('bare fastify+zod', {}, bareRounds);
    const wrkRoundsEndedAt = performance.now();
    const gwFigs = gateways.map((g, i) => figure(g.name, g.env, gwRounds[i] ?? []));
    const main = gwFigs[0];
    if (main === undefined) throw new Error('no gateway variant configured');
    const generatorCpuShareMax = Math.max(bareFig.generatorCpuShareMax, ...gwFigs.map((g) => g.generatorCpuShareMax));
    const bareOverGateway = bareFig.okPerSec.median / main.okPerSec.median;
    const bound = !(bareOverGateway > 1.05)
      ? `the bare route (${bareFig.okPerSec.median.toFixed(0)}/s) was not faster than the gateway (${main.okPerSec.median.toFixed(0)}/s) under the same wrk settings: the generator, not the gateway, may be the limit`
      : generatorCpuShareMax > 0.9
        ? `wrk used ${(generatorCpuShareMax * 100).toFixed(0)} % of its thread's core`
        : undefined;
    const ratios = gwFigs.map((g) => ({
      name: g.name,
      ratio: judgeRatio(g.okPerSec.rounds, bareFig.okPerSec.rounds, { ceilingNoise: 0.1, generatorBound: bound }),
    }));
    const budget = cpuBudget(
      {
        gateway: main.cpuMsPerRequest.median,
        kafka: main.kafkaCpuMsPerRequest.median,
        generator: main.generatorCpuMsPerRequest.median,
      },
      cpus().length,
      0.6 * bareFig.okPerSec.median,
    );
    ctx.log(
      `  CPU budget: ${budget.cost.total.toFixed(3)} ms per accepted request (gateway ${budget.cost.gateway.toFixed(3)}, Kafka ${budget.cost.kafka.toFixed(3)}, wrk ${budget.cost.generator.toFixed(3)}) → ${budget.cores} cores allow at most ${budget.boxBoundPerSec.toFixed(0)}/s; 0.6 × bare = ${budget.targetPerSec.toFixed(0)}/s needs ${budget.coresNeeded.toFixed(2)} cores; machine busy ${(main.machineBusyShare.median * 100).toFixed(0)} % during the gateway's rounds`,
    );
    for (const { name, ratio } of ratios)
      ctx.log(
        `  ${name} ÷ bare: ${ratio.value.toFixed(2)} [${ratio.validity}${ratio.reason !== undefined ? `: ${ratio.reason}` : ''}]`,
      );

    // Batch endpoint on the default gateway: 100 notifications per request.
    const batchSize = 100;
    const batchBody = JSON.stringify({ notifications: Array.from({ length: batchSize }, (_, i) => benchRequest(i)) });
    const batchRounds: Round[] = [];
    for (let r = 0; r < plan.rounds; r++)
      batchRounds.push(
        await measured({
          url: gateways[0]?.url ?? '',
          path: '/v1/notifications/batch',
          body: batchBody,
          headers: ctx.authHeaders,
          ...wrkSettings,
          connections: 16,
        }),
      );
    const batchFig = figure(`batch (${batchSize} per request)`, {}, batchRounds);
    const notificationsPerSec = spreadOf(batchRounds.map((r) => r.okPerSec * batchSize));
    ctx.log(
      `  batch: ${batchFig.okPerSec.median.toFixed(0)} req/s = ${notificationsPerSec.median.toFixed(0)} notifications/s`,
    );

    // p99 at 80 % of the maximum, open loop (coordinated-omission-free), generator in its own process; below it a
    // ladder (40 %, 60 %) shows up to where the p99 holds when the generator's own CPU shares the box.
    const openLoopOptions = (fraction: number, durationMs: number): Parameters<typeof openLoopProcess>[0] => ({
      url: gateways[0]?.url ?? '',
      ...single,
      ratePerSec: Math.max(100, Math.round(fraction * main.okPerSec.median)),
      durationMs,
      connections: plan.gatewayConnections,
    });
    const openLoopAt = async (fraction: number): Promise<GatewayResults['openLoop']> => {
      const o = openLoopOptions(fraction, plan.gatewayWrkSec * 1000);
      const m0 = readMachineCpu();
      const r = options.vegeta !== undefined ? await vegetaOpenLoop(options.vegeta, o) : await openLoopProcess(o);
      const res = { ...r, fractionOfMax: fraction, machineBusyShare: busyShare(m0, readMachineCpu()) };
      ctx.log(
        `  open loop (${res.generator}) at ${o.ratePerSec}/s (${Math.round(fraction * 100)} % of max): accepted ${res.acceptedPerSec.toFixed(0)}/s p50 ${res.p50Ms.toFixed(1)} ms p99 ${res.p99Ms.toFixed(1)} ms, generator issue lag p99 ${res.issueLagP99Ms.toFixed(1)} ms${res.generatorCpuShare !== undefined ? `, generator CPU ${(res.generatorCpuShare * 100).toFixed(0)} % of a core` : ''}, machine busy ${(res.machineBusyShare * 100).toFixed(0)} %`,
      );
      return res;
    };
    // Warm-up, not recorded (as before the wrk rounds): the generator's connections and the gateway's new ones.
    if (options.vegeta !== undefined) await vegetaOpenLoop(options.vegeta, openLoopOptions(0.4, 2_000));
    const openLoopLadder: GatewayResults['openLoop'][] = [];
    for (const fraction of [0.4, 0.6]) openLoopLadder.push(await openLoopAt(fraction));
    const openLoop = await openLoopAt(0.8);
    openLoopLadder.push(openLoop);

    const readyMs = started.map((c) => c.readyMs);
    const spawnedAt = started.map((c) => c.spawnedAt);
    const accepted = gwRounds.map((rounds) => rounds.reduce((n, r) => n + r.okPerSec * r.durationSec, 0));
    for (const c of started.splice(0).reverse()) await c.stop();
    const profileOf = (i: number): GatewayProfile | undefined => {
      const dir = join(profileDir, `variant${i}`);
      if (!existsSync(dir)) return undefined;
      const file = readdirSync(dir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(dir, f))[0];
      if (file === undefined) return undefined;
      // Start-up (module loading, Kafka connect) is not the request path: leave out the time until the gateway was ready.
      const skipMs = Math.round(readyMs[i + 1] ?? 0);
      // Only the single-request wrk rounds: the default variant also serves the batch and open-loop rounds after them.
      const untilMs = Math.round(wrkRoundsEndedAt - (spawnedAt[i + 1] ?? 0));
      const top = topFrames(file, 25, repoRoot(), skipMs, untilMs);
      const name = gateways[i]?.name ?? `variant${i}`;
      ctx.log(`  ${name} CPU profile: ${file} (top frame ${top.frames[0]?.frame ?? '–'})`);
      return {
        variant: name,
        file,
        skipMs,
        busyMs: top.totalMs,
        accepted: accepted[i] ?? 0,
        frames: top.frames,
        areas: selfTimeByArea(file, repoRoot(), skipMs, untilMs).slice(0, 12),
      };
    };
    const profile = options.profile === true ? profileOf(0) : undefined;
    const compareProfile =
      options.profile === true && options.compareDir !== undefined ? profileOf(gateways.length - 1) : undefined;

    const bareTopic = `bench-${ctx.runId}-bare-producer`;
    await createTopic(ctx, bareTopic, 6);
    const kafka = await bareKafka(ctx, bareTopic);
    return {
      wrk: { ...wrkSettings, rounds: plan.rounds },
      bare: bareFig,
      gateways: gwFigs,
      ratios,
      budget,
      headroom: { bareOverGateway, generatorCpuShareMax, bound },
      batch: {
        batchSize,
        requests: batchFig,
        notificationsPerSec,
        overSingle: notificationsPerSec.median / main.okPerSec.median,
      },
      openLoop,
      openLoopLadder,
      bareKafka: kafka,
      profile,
      compareProfile,
    };
  } finally {
    for (const c of started.reverse()) await c.stop();
  }
}
