import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { repoRoot, resolveInfraPaths } from '../dev/infra/index.js';
import { readinessLog, stopAllComponents } from './lib/components.js';
import type { Component } from './lib/components.js';
import { createContext } from './lib/context.js';
import type { BenchContext, BenchPlan } from './lib/context.js';
import { startPrivateClusterInfra, startPrivateInfra } from './lib/private-infra.js';
import type { PrivateInfra } from './lib/private-infra.js';
import { renderMarkdown, renderSvg, summarize } from './lib/report.js';
import type { BenchReport } from './lib/report.js';
import { startSinksProcess } from './lib/sinks-client.js';
import { ensureWrk } from './lib/wrk.js';
import { ensureVegeta } from './lib/vegeta.js';
import type { SinksProcess } from './lib/sinks-client.js';
import type { E2eResults } from './phases/e2e.js';
import { e2ePhase } from './phases/e2e.js';
import type { GatewayResults } from './phases/gateway.js';
import { gatewayPhase } from './phases/gateway.js';
import { restartPhase } from './phases/reference.js';
import type { RestartResults } from './phases/reference.js';
import type { PragmaResults } from './phases/temporal.js';
import { temporalPhase } from './phases/temporal.js';
import { templatePhase } from './phases/templates.js';
import type { TemplateResults } from './phases/templates.js';
import { templatesE2ePhase } from './phases/templates-e2e.js';
import type { TemplateE2eResults } from './phases/templates-e2e.js';
import { renderTopologyPairs, topologyPairPhase } from './phases/topology.js';
import type { TopologyPair } from './phases/topology.js';

const NORMAL = { name: 'WAL+NORMAL', pragmas: ['journal_mode=WAL', 'synchronous=NORMAL'] };
const OFF = { name: 'WAL+OFF', pragmas: ['journal_mode=WAL', 'synchronous=OFF'] };

/** `npm run bench -- --quick`: every figure, fewer rounds and smaller steps (under 2 minutes). */
export const QUICK_PLAN: BenchPlan = {
  quick: true,
  rounds: 2,
  e2eRounds: 1,
  gatewayWrkSec: 5,
  gatewayStepMs: 2_000,
  gatewayConnections: 64,
  gatewayVariants: [
    { name: 'defaults', env: {} },
    { name: 'v8-young-gen-default', env: {}, serviceFlags: false },
    { name: 'kafkajs', env: { KAFKA_PRODUCER_CLIENT: 'kafkajs' } },
  ],
  ingestRecords: 300,
  // Eager start (ingest hosts a workflow worker) next to the default; the faster one drives the end-to-end phase.
  ingestVariants: [
    { name: 'concurrency64', env: {} },
    { name: 'eager-start', env: { INGEST_EAGER_START: 'true' } },
  ],
  bareStartConcurrency: 200,
  pragmaSets: [NORMAL],
  workerVariants: [{ name: 'default', env: {} }],
  ceilingMs: 12_000,
  ceilingLanes: 40,
  e2eFractions: [0.5, 1],
  e2eStepMs: 5_000,
};

/** `npm run bench`: three rounds per figure, the tuning variants, and a five-step end-to-end ladder (under 15 minutes). */
export const DEFAULT_PLAN: BenchPlan = {
  quick: false,
  rounds: 3,
  e2eRounds: 2,
  gatewayWrkSec: 8,
  gatewayStepMs: 2_500,
  gatewayConnections: 64,
  gatewayVariants: [
    { name: 'defaults', env: {} },
    { name: 'v8-young-gen-default', env: {}, serviceFlags: false },
    { name: 'linger0', env: { KAFKA_LINGER_MS: '0' } },
    { name: 'kafkajs', env: { KAFKA_PRODUCER_CLIENT: 'kafkajs' } },
  ],
  ingestRecords: 1_000,
  ingestVariants: [
    { name: 'concurrency64', env: {} },
    { name: 'concurrency256', env: { INGEST_CONCURRENCY: '256' } },
    { name: 'eager-start', env: { INGEST_EAGER_START: 'true' } },
  ],
  bareStartConcurrency: 200,
  pragmaSets: [OFF, NORMAL],
  workerVariants: [
    { name: 'default', env: {} },
    {
      name: 'wft100-sms200-cache5000',
      env: { WORKFLOW_WORKER_CONCURRENCY: '100', SMS_CONCURRENCY: '200', WORKER_MAX_CACHED_WORKFLOWS: '5000' },
    },
  ],
  ceilingMs: 15_000,
  ceilingLanes: 100,
  e2eFractions: [0.25, 0.5, 0.75, 1, 1.25],
  e2eStepMs: 8_000,
};

const PHASES = ['gateway', 'temporal', 'e2e', 'templates', 'templates-e2e'];

const USAGE = `Usage: npm run bench [-- --quick] [-- --only ${PHASES.join(',')}] [-- --profile] [-- --topology cluster]
  --topology cluster: the minimal-workflow ceiling and notify end to end, interleaved, first on a private dev server
    (one broker, Temporal CLI on SQLite), then on a private cluster (3 brokers RF 3, 2 Temporal servers on
    PostgreSQL), side by side with CPU and peak RSS per process per 1,000 notifications (the other phases are skipped).
  --profile: run the gateway (and the templates-e2e channel workers) under node --cpu-prof and print their top
    self-time frames (bench/top-frames.ts); in the e2e phase the workflow and SMS workers run under --cpu-prof too
    (profiles in the run's logs folder, cpu-profiles/).
  templates-e2e: template send vs plain-content send end to end (gateway → Kafka → ingest → workflow → email/SMS
    worker → sink), interleaved rounds; template ÷ plain delivered/s at saturation and 202 → sink latency.
  --rounds N: rounds per figure (≥ 2; default 3, quick 2).
  --gateway-from <dir>: also measure the gateway of another checkout (<dir>/src, e.g. \`git archive main src\`),
    interleaved with this one: a before/after ratio from one run.
  Measures gateway accept, ingest and end-to-end throughput/latency and per-process resources on a private Kafka +
  Temporal, against bare baselines. Results: bench-results/bench-<timestamp>.{json,md,svg}.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'gateway-from': { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      topology: { type: 'string', default: 'embedded' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const basePlan = values.quick === true ? QUICK_PLAN : DEFAULT_PLAN;
  const plan = {
    ...(values.rounds !== undefined
      ? { ...basePlan, rounds: Math.max(2, Number.parseInt(values.rounds, 10) || basePlan.rounds) }
      : basePlan),
    profileWorkers: values.profile === true,
  };
  const only = new Set((values.only ?? PHASES.join(',')).split(',').map((s) => s.trim()));
  const unknown = [...only].filter((p) => !PHASES.includes(p));
  if (unknown.length > 0) throw new Error(`unknown phase(s) ${unknown.join(', ')} in --only; use ${PHASES.join(', ')}`);
  if (only.has('e2e')) only.add('temporal');
  if (values.topology !== 'embedded' && values.topology !== 'cluster')
    throw new Error(`--topology must be "embedded" or "cluster" (got ${values.topology})`);
  if (values.topology === 'cluster') {
    await topologyRun(plan);
    return;
  }

  const { startedAt, stamp, outDir, logDir, log, config, load } = runSetup();
  log(`${plan.quick ? 'quick' : 'default'} run; component logs in ${logDir}`);
  // Before anything starts: without the generator there is no gateway figure.
  if (only.has('gateway')) log(`wrk ${ensureWrk(log)}`);
  // The open-loop generator of the p99-at-80 % figure; without Go the Node generator stands in (and says so).
  let vegeta: string | undefined;
  if (only.has('gateway'))
    vegeta = await ensureVegeta(resolveInfraPaths(config.NOTIFY_HOME).binDir, log).catch((err: unknown) => {
      log(`vegeta unavailable, the open loop falls back to the Node generator: ${(err as Error).message}`);
      return undefined;
    });

  let infra: PrivateInfra | undefined;
  let ctx: BenchContext | undefined;
  let interrupted = false;
  const cleanup = async () => {
    await stopAllComponents();
    await ctx?.close().catch(() => undefined);
    await infra?.stop();
  };
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: stopping components and the private Kafka/Temporal');
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let gateway: GatewayResults | undefined;
  const temporal: PragmaResults[] = [];
  let e2e: E2eResults | undefined;
  let restart: RestartResults | undefined;
  let templates: TemplateResults | undefined;
  let templatesE2e: TemplateE2eResults | undefined;
  try {
    // In-process against its own dev sinks, before the private Kafka/Temporal start (nothing else runs meanwhile).
    if (only.has('templates'))
      templates = await templatePhase({ rounds: plan.quick ? 2 : 4, messages: plan.quick ? 100 : 300 }, (line) =>
        log(`templates: ${line}`),
      );
    const pragmaSets = only.has('temporal') ? plan.pragmaSets : plan.pragmaSets.slice(-1);
    infra = await startPrivateInfra(
      config,
      stamp.toLowerCase().replace(/[^a-z0-9]/g, ''),
      pragmaSets[0]?.pragmas ?? NORMAL.pragmas,
      log,
    );
    log(`private Kafka ${infra.kafkaBrokers.join(',')}, Temporal ${infra.temporalAddress}`);
    ctx = await createContext(plan, stamp.slice(11, 19).replace(/-/g, ''), logDir, infra, log);
    if (only.has('gateway'))
      gateway = await gatewayPhase(ctx, {
        profile: values.profile === true,
        compareDir: values['gateway-from'],
        vegeta,
      });
    if (only.has('temporal')) {
      const sinks: SinksProcess = await startSinksProcess(ctx);
      let workers: Component[] | undefined;
      let workerPrefix = '';
      for (const [i, set] of pragmaSets.entries()) {
        if (i > 0) {
          log(`restarting Temporal with a fresh database and pragmas ${set.pragmas.join(', ')}`);
          await ctx.infra.restartTemporal(set.pragmas);
        }
        const last = i === pragmaSets.length - 1;
        const result = await temporalPhase(ctx, set.name, sinks, last && only.has('e2e'));
        temporal.push(result.results);
        workers = result.workers;
        workerPrefix = result.workerPrefix;
      }
      const final = temporal[temporal.length - 1];
      const ceiling = final?.ceilings[final.ceilings.length - 1]?.deliveredPerSec ?? Number.NaN;
      if (only.has('e2e') && workers !== undefined && Number.isFinite(ceiling)) {
        const gwBest = {};
        const ingestBest = [...(final?.ingest ?? [])].sort((a, b) => b.recordsPerSec - a.recordsPerSec)[0]?.env ?? {};
        const workerEnv = ctx.plan.workerVariants[ctx.plan.workerVariants.length - 1]?.env ?? {};
        e2e = await e2ePhase(ctx, ceiling, sinks, workers, workerPrefix, { ...gwBest, ...ingestBest, ...workerEnv });
      }
      await Promise.all((workers ?? []).map((w) => w.stop()));
      await sinks.component.stop();
      restart = await restartPhase(ctx);
    }
    if (only.has('templates-e2e')) templatesE2e = await templatesE2ePhase(ctx, { profile: values.profile === true });
  } finally {
    await cleanup();
  }

  const partial: Omit<BenchReport, 'summary'> = {
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    mode: plan.quick ? 'quick' : 'default',
    machine: { cpus: cpus().length, loadAverageAtStart: load, loadAverageAtEnd: loadavg(), node: process.version },
    gateway,
    temporal,
    e2e,
    readiness: [...readinessLog()],
    restart,
    templates,
    templatesE2e,
  };
  const report: BenchReport = { ...partial, summary: summarize(partial) };
  const base = join(outDir, `bench-${stamp}`);
  const markdown = renderMarkdown(report);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.svg`, renderSvg(report));
  writeFileSync(`${base}.md`, `${markdown}\n`);
  console.log(`\n${markdown}`);
  console.log(`results: ${base}.json, ${base}.svg, ${base}.md`);
}

/** What every run starts with: its time stamp, output folders, logger, configuration and the load average. */
function runSetup() {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const outDir = join(repoRoot(), 'bench-results');
  const logDir = join(outDir, `logs-${stamp}`);
  mkdirSync(logDir, { recursive: true });
  const log = (m: string) =>
    console.log(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s] ${m}`);
  return { startedAt, stamp, outDir, logDir, log, config: loadConfig(), load: loadavg() };
}

/** `--topology cluster`: the same pair of measurements on the dev server, then on the cluster, one after the other. */
async function topologyRun(plan: BenchPlan): Promise<void> {
  const { startedAt, stamp, outDir, logDir, log, config, load } = runSetup();
  const runId = stamp.toLowerCase().replace(/[^a-z0-9]/g, '');
  log(`${plan.quick ? 'quick' : 'default'} topology run (dev server, then cluster); component logs in ${logDir}`);
  const pairs: TopologyPair[] = [];
  const topologies: Array<{ name: string; start: () => Promise<PrivateInfra> }> = [
    { name: 'dev server', start: () => startPrivateInfra(config, runId, NORMAL.pragmas, log) },
    { name: 'cluster', start: () => startPrivateClusterInfra(config, `${runId}c`, log) },
  ];
  for (const t of topologies) {
    let infra: PrivateInfra | undefined;
    let ctx: BenchContext | undefined;
    try {
      infra = await t.start();
      log(`${t.name}: Kafka ${infra.kafkaBrokers.join(',')}, Temporal ${infra.temporalAddress}`);
      ctx = await createContext(plan, `${stamp.slice(11, 19).replace(/-/g, '')}${pairs.length}`, logDir, infra, log);
      pairs.push(await topologyPairPhase(ctx, t.name));
    } finally {
      await stopAllComponents();
      await ctx?.close().catch(() => undefined);
      await infra?.stop();
    }
  }
  const header = `Topology run ${startedAt.toISOString()} (${plan.quick ? 'quick' : 'default'}, ${plan.rounds} rounds, ${plan.ceilingMs / 1000} s windows), load average ${load.map((l) => l.toFixed(1)).join(' / ')} → ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`;
  const markdown = `${header}\n\n${renderTopologyPairs(pairs)}`;
  const base = join(outDir, `bench-topology-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ startedAt: startedAt.toISOString(), plan, pairs }, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${markdown}\n`);
  console.log(`\n${markdown}`);
  console.log(`results: ${base}.json, ${base}.md`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
