import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { Component } from '../lib/components.js';
import { startComponent, whenOutput } from '../lib/components.js';
import type { BenchContext } from '../lib/context.js';
import { median, spreadOf } from '../lib/stats.js';
import type { Spread } from '../lib/stats.js';
import { steadyRate } from './temporal.js';

/** Starts the minimal reference workflow's workers (bench/minimal-worker.ts) with notify's worker slot settings. */
export async function startMinimalWorker(ctx: BenchContext, prefix: string): Promise<Component> {
  const config = ctx.config({});
  const options = {
    address: ctx.infra.temporalAddress,
    namespace: ctx.infra.namespace,
    prefix,
    workflowSlots: config.WORKFLOW_WORKER_CONCURRENCY,
    activitySlots: config.channels.sms?.concurrency ?? 100,
    cachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
  };
  return startComponent({
    name: 'worker-minimal',
    script: 'bench/minimal-worker.ts',
    args: [JSON.stringify(options)],
    env: ctx.env({}),
    logDir: ctx.logDir,
    ready: whenOutput(/minimal workers running/),
    readyTimeoutMs: 180_000,
  });
}

/**
 * One closed-loop round of the minimal workflow (same lanes and duration as notify's ceiling round): completed/s.
 * Uses a client without notify's payload codec, like the minimal worker.
 */
export async function minimalCeilingRound(
  ctx: BenchContext,
  prefix: string,
  durationMs: number,
  /** Counts every completed workflow of the round (for CPU per workflow). */
  counter?: { completed: number },
): Promise<number> {
  const client = new Client({ connection: ctx.temporal.connection, namespace: ctx.infra.namespace });
  const completions: number[] = [];
  const t0 = performance.now();
  const lane = async (first: number) => {
    for (let i = first; performance.now() - t0 < durationMs; i += ctx.plan.ceilingLanes) {
      const handle = await client.workflow.start('minimalWorkflow', {
        taskQueue: `${prefix}-minimal-wf`,
        workflowId: `min-${ctx.runId}-${prefix}-${Math.round(t0)}-${i}`,
        args: [`${prefix}-minimal-act`, `m${i}`],
      });
      await handle.result();
      completions.push(performance.now() - t0);
      if (counter !== undefined) counter.completed += 1;
    }
  };
  await Promise.all(Array.from({ length: ctx.plan.ceilingLanes }, (_, i) => lane(i)));
  return steadyRate(completions, durationMs);
}

/** Workflow worker start-to-ready: with the bundle built at start (empty cache) and read from the cache, interleaved. */
export interface RestartResults {
  builtMs: Spread;
  cachedMs: Spread;
  /**
   * Where a cached-bundle start spends its time, from the worker's own `workers running` log line (ms since process
   * start): node + module loading, connecting to Temporal (bundle read and migrations overlap it), creating the
   * workers; median over the cached rounds. Spawn → ready adds what the bench needs to see the line.
   */
  cachedPhasesMs?: { modules: number; connect: number; createWorkers: number; total: number };
}

/** The `startupMs` phases a worker logged with `workers running` (see src/workers/main.ts), if any. */
export function startupPhases(
  log: string,
): { modules: number; connect: number; createWorkers: number; total: number } | undefined {
  const line = log.split('\n').find((l) => l.includes('"workers running"') && l.includes('"startupMs"'));
  if (line === undefined) return undefined;
  try {
    const parsed = JSON.parse(line.slice(line.indexOf('{'))) as {
      startupMs?: { modules: number; connect: number; createWorkers: number; total: number };
    };
    return parsed.startupMs;
  } catch {
    return undefined;
  }
}

/**
 * Restart time of the workflow worker (`npm run worker -- --workflows`, spawn → `workers running`), A B A B: with an
 * empty WORKFLOW_BUNDLE_DIR (webpack runs, as every start did before the cache) and with the cache filled.
 */
export async function restartPhase(ctx: BenchContext): Promise<RestartResults> {
  ctx.log('restart: workflow worker start-to-ready, bundle built vs cached');
  const cacheDir = mkdtempSync(join(ctx.logDir, 'bundle-cache-'));
  const start = async (name: string, dir: string) => {
    const c = await startComponent({
      name,
      script: 'src/workers/main.ts',
      args: ['--workflows'],
      env: ctx.env({ WORKFLOW_BUNDLE_DIR: dir, TEMPORAL_TASK_QUEUE_PREFIX: `restart${ctx.runId}` }),
      logDir: ctx.logDir,
      ready: whenOutput(/workers running/),
      readyTimeoutMs: 180_000,
    });
    await c.stop();
    const phases = (() => {
      try {
        return startupPhases(readFileSync(join(ctx.logDir, `${name}.log`), 'utf8'));
      } catch {
        return undefined;
      }
    })();
    return { readyMs: c.readyMs, phases };
  };
  await start('worker-restart-fill', cacheDir);
  const built: number[] = [];
  const cached: number[] = [];
  const phases: Array<{ modules: number; connect: number; createWorkers: number; total: number }> = [];
  for (let r = 0; r < ctx.plan.rounds; r++) {
    const empty = mkdtempSync(join(ctx.logDir, 'bundle-empty-'));
    built.push((await start(`worker-restart-built-${r}`, empty)).readyMs);
    rmSync(empty, { recursive: true, force: true });
    const c = await start(`worker-restart-cached-${r}`, cacheDir);
    cached.push(c.readyMs);
    if (c.phases !== undefined) phases.push(c.phases);
    const p = c.phases;
    ctx.log(
      `  round ${r + 1}: built ${(built[r]! / 1000).toFixed(1)} s, cached ${(c.readyMs / 1000).toFixed(1)} s` +
        (p !== undefined
          ? ` (modules ${p.modules} ms, connect ${p.connect} ms, create workers ${p.createWorkers} ms)`
          : ''),
    );
  }
  const med = (k: 'modules' | 'connect' | 'createWorkers' | 'total') => median(phases.map((p) => p[k]));
  return {
    builtMs: spreadOf(built),
    cachedMs: spreadOf(cached),
    ...(phases.length > 0
      ? {
          cachedPhasesMs: {
            modules: med('modules'),
            connect: med('connect'),
            createWorkers: med('createWorkers'),
            total: med('total'),
          },
        }
      : {}),
  };
}
