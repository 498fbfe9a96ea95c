import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, withLock } from '../dev/infra/index.js';
import { startCluster } from './cluster.js';
import type { ChaosCluster } from './cluster.js';
import { planFaults, runFaults } from './faults.js';
import type { InjectedFault } from './faults.js';
import { buildLedger, formatLedger } from './ledger.js';
import type { Ledger, SinkReceipt } from './ledger.js';
import { runLoad } from './load.js';
import type { Acknowledged, AttemptEvent, LoadReport } from './load.js';
import type { ChaosOptions } from './options.js';
import { seededRandom } from './random.js';
import { planWorkload } from './workload.js';

/** Delivery attempt timeout of every channel in a chaos run (see `chaosChannelEnv`). */
export const CHAOS_ATTEMPT_TIMEOUT_MS = 5_000;
/** Graceful-drain time of a SIGTERMed worker. */
export const CHAOS_SHUTDOWN_GRACE_MS = 10_000;

/** What a chaos run hands back. */
export interface ChaosResult {
  ledger: Ledger;
  /** Path of the ledger JSON. */
  ledgerFile: string;
  /** Path of the run log (every fault with its timestamp and effect). */
  logFile: string;
  /** For lost notifications (up to 20): what the gateway's status API says about them. */
  lostStatus: Record<string, unknown>;
}

/** Hooks of {@link runChaos}. */
export interface ChaosHooks {
  /** Each log line (already timestamped) besides the log file; default stdout. */
  print?: (line: string) => void;
  /** Aborting stops the load and the faults, skips the drain and stops everything. */
  signal?: AbortSignal;
}

async function fetchReceipts(sinksUrl: string): Promise<SinkReceipt[]> {
  const res = await fetch(`${sinksUrl}/messages`, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`GET ${sinksUrl}/messages answered ${res.status}`);
  const all = (await res.json()) as SinkReceipt[];
  return all.map((m) => ({
    channel: m.channel,
    notificationId: m.notificationId,
    idempotencyKey: m.idempotencyKey,
    providerMessageId: m.providerMessageId,
    receivedAt: m.receivedAt,
  }));
}

function undelivered(acknowledged: Iterable<Acknowledged>, receipts: readonly SinkReceipt[]): number {
  const seen = new Map<string, Set<string>>();
  for (const r of receipts) {
    const s = seen.get(r.notificationId) ?? new Set<string>();
    s.add(r.channel);
    seen.set(r.notificationId, s);
  }
  let missing = 0;
  for (const a of acknowledged) {
    const got = seen.get(a.id);
    const ok =
      a.routing === 'fallback'
        ? a.channels.some((c) => got?.has(c) === true)
        : a.channels.every((c) => got?.has(c) === true);
    if (!ok) missing++;
  }
  return missing;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/**
 * A whole chaos run (see {@link runChaosInWorkDir}). Two runs on the same work dir (two `npm test` at once, or a test
 * and a CLI run with the same `--work-dir`) would share ports and kill each other's leftovers, so they take turns
 * through a lock next to the work dir.
 */
export async function runChaos(options: ChaosOptions, hooks: ChaosHooks = {}): Promise<ChaosResult> {
  const lockDir = `${resolve(repoRoot(), options.workDir)}.lock`;
  const print = hooks.print ?? ((line: string) => console.log(line));
  return withLock(
    lockDir,
    () => print(`waiting for another chaos run using ${options.workDir} to finish`),
    () => runChaosInWorkDir(options, hooks),
    60 * 60_000,
  );
}

/**
 * A whole chaos run: private cluster up, open-loop load and the seeded fault schedule at the same time, then the drain
 * (every acknowledged notification delivered, or the drain timeout), a settle period for late duplicates, the ledger
 * (printed, and written to `<resultsDir>/ledger-<ts>.json`), and everything stopped again, also on error or abort.
 */
async function runChaosInWorkDir(options: ChaosOptions, hooks: ChaosHooks): Promise<ChaosResult> {
  const runId = timestamp();
  const resultsDir = resolve(repoRoot(), options.resultsDir);
  mkdirSync(resultsDir, { recursive: true });
  const logFile = join(resultsDir, `chaos-${runId}.log`);
  const print = hooks.print ?? ((line: string) => console.log(line));
  const log = (line: string) => {
    const stamped = `${new Date().toISOString()} ${line}`;
    appendFileSync(logFile, `${stamped}\n`);
    print(stamped);
  };
  const signal = hooks.signal;
  const checkAborted = () => {
    if (signal?.aborted === true) throw new Error('chaos run interrupted');
  };

  const plan = planWorkload(
    {
      count: options.count,
      channels: options.channels,
      idempotentShare: options.idempotentShare,
      fallbackShare: options.fallbackShare,
      runId,
    },
    seededRandom(options.seed),
  );
  const faultPlan = planFaults(
    { kinds: options.faults, meanGapMs: options.faultGapMs, durationMs: options.faultDurationMs },
    seededRandom(options.seed ^ 0x5bd1e995),
  );
  log(
    `chaos run ${runId}: ${options.count} notifications at ${options.rate}/s over ${options.channels.join(', ')}, seed ${options.seed}, faults ${options.faults.join(', ')}`,
  );

  let cluster: ChaosCluster | undefined;
  try {
    cluster = await startCluster({
      portBase: options.portBase,
      workDir: options.workDir,
      channels: options.channels,
      ingestConsumers: options.ingestConsumers,
      workersPerChannel: options.workersPerChannel,
      attemptTimeoutMs: CHAOS_ATTEMPT_TIMEOUT_MS,
      shutdownGraceMs: CHAOS_SHUTDOWN_GRACE_MS,
      log,
      topology: options.topology,
    });
    checkAborted();
    const c = cluster;

    const events: AttemptEvent[] = [];
    let loadDone = false;
    const startedAt = Date.now();
    const loadPromise: Promise<LoadReport> = runLoad(plan, {
      gatewayUrl: c.gatewayUrl,
      rate: options.rate,
      maxAttempts: options.maxSubmitAttempts,
      requestTimeoutMs: options.requestTimeoutMs,
      signal,
      log,
      events,
    }).finally(() => {
      loadDone = true;
    });
    const faultsPromise: Promise<InjectedFault[]> = runFaults(faultPlan, {
      cluster: c,
      channels: options.channels,
      events,
      done: () => loadDone,
      signal,
      log,
    });
    const [load, faults] = await Promise.all([loadPromise, faultsPromise]);
    checkAborted();
    log(`faults over: ${faults.length} injected`);

    // Quiet: no fault rule left, every component up.
    await fetch(`${c.sinksUrl}/faults`, { method: 'DELETE' });
    for (const p of c.processes.values()) if (p.pid === undefined) await p.start();
    const quietAt = Date.now();

    let drainedAt: number | undefined;
    let receipts: SinkReceipt[] = [];
    let lastReport = 0;
    while (Date.now() - quietAt < options.drainTimeoutMs) {
      checkAborted();
      receipts = await fetchReceipts(c.sinksUrl);
      const missing = undelivered(load.acknowledged.values(), receipts);
      if (missing === 0) {
        drainedAt = Date.now();
        break;
      }
      if (Date.now() - lastReport >= 15_000) {
        lastReport = Date.now();
        log(
          `drain: ${missing} of ${load.acknowledged.size} acknowledged notifications not delivered yet (${receipts.length} receipts)`,
        );
      }
      await sleep(2_000);
    }
    log(
      drainedAt !== undefined
        ? `drained ${drainedAt - quietAt} ms after the last fault; settling ${options.settleMs} ms for late duplicates`
        : `drain timed out after ${options.drainTimeoutMs} ms`,
    );
    await sleep(options.settleMs, undefined, { signal }).catch(() => undefined);
    receipts = await fetchReceipts(c.sinksUrl);

    const ledger = buildLedger({
      acknowledged: load.acknowledged.values(),
      receipts,
      gateway: {
        planned: load.planned,
        sends: load.sends,
        attempts: load.attempts,
        rejectionsByReason: load.rejectionsByReason,
        gaveUpByReason: load.gaveUpByReason,
        idempotencyMismatches: load.idempotencyMismatches,
      },
      faults,
      quietAt,
      drainedAt,
    });

    const lostStatus: Record<string, unknown> = {};
    for (const id of ledger.lostIds.slice(0, 20)) {
      const res = await fetch(`${c.gatewayUrl}/v1/notifications/${id}`).catch((err: unknown) => err as Error);
      lostStatus[id] =
        res instanceof Error ? `status lookup failed: ${res.message}` : await res.json().catch(() => res.status);
    }
    const ledgerFile = join(resultsDir, `ledger-${runId}.json`);
    writeFileSync(
      ledgerFile,
      `${JSON.stringify({ runId, options, startedAt: new Date(startedAt).toISOString(), logFile, componentLogs: c.logsDir, ledger, lostStatus }, null, 2)}\n`,
    );
    log(`\n${formatLedger(ledger)}`);
    if (ledger.lost > 0) log(`status of lost notifications: ${JSON.stringify(lostStatus)}`);
    log(`ledger written to ${ledgerFile}`);
    return { ledger, ledgerFile, logFile, lostStatus };
  } finally {
    if (cluster !== undefined) {
      log('stopping the cluster');
      await cluster
        .close()
        .catch((err: unknown) =>
          log(`stopping the cluster failed: ${err instanceof Error ? err.message : String(err)}`),
        );
    }
  }
}
