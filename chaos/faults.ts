import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosCluster } from './cluster.js';
import type { AttemptEvent } from './load.js';
import type { Random } from './random.js';

/** Every fault the chaos run can inject. */
export const CHAOS_FAULT_KINDS = [
  'kill-ingest',
  'kill-workflow-worker',
  'kill-channel-worker',
  'term-channel-worker',
  'restart-kafka',
  'restart-temporal',
  'sink-5xx',
  'sink-timeout',
  'sink-429',
  'sink-accept-then-drop',
  // Cluster topology only (`--topology cluster`):
  'kill-kafka-broker',
  'kill-temporal-node',
  'restart-postgres',
] as const;

/** One of {@link CHAOS_FAULT_KINDS}. */
export type ChaosFaultKind = (typeof CHAOS_FAULT_KINDS)[number];

/**
 * Faults of a default run. `sink-accept-then-drop` (the provider records the message, then the connection breaks) is
 * left out: it produces duplicates by construction; add it with `--faults` to see them attributed.
 */
/** Faults that need the cluster topology (replicated Kafka, several Temporal servers, PostgreSQL). */
export const CLUSTER_ONLY_FAULT_KINDS: readonly ChaosFaultKind[] = [
  'kill-kafka-broker',
  'kill-temporal-node',
  'restart-postgres',
];

export const DEFAULT_FAULT_KINDS: readonly ChaosFaultKind[] = CHAOS_FAULT_KINDS.filter(
  (k) => k !== 'sink-accept-then-drop' && !CLUSTER_ONLY_FAULT_KINDS.includes(k),
);

/**
 * Faults of a default cluster run: today's process and sink faults plus the cluster's own (SIGKILL the partition-leader
 * broker, SIGKILL a Temporal server process, restart PostgreSQL). Whole-Kafka / whole-Temporal restarts are left out:
 * they are outages by design on any topology.
 */
export const DEFAULT_CLUSTER_FAULT_KINDS: readonly ChaosFaultKind[] = [
  ...DEFAULT_FAULT_KINDS.filter((k) => k !== 'restart-kafka' && k !== 'restart-temporal'),
  ...CLUSTER_ONLY_FAULT_KINDS,
];

/** One fault of the schedule, drawn up front from the seed. */
export interface PlannedFault {
  kind: ChaosFaultKind;
  /** Pause after the previous fault ended. */
  gapMs: number;
  /** Down time (servers), window length (sinks); processes are restarted after 30% of it. */
  durationMs: number;
  /** Which process / channel: an index into the candidates (modulo their number). */
  target: number;
  /** Sink faults: true = every channel at once. Server restarts: true = SIGKILL instead of a clean stop. */
  wide: boolean;
}

/** Options of {@link planFaults}. */
export interface FaultPlanOptions {
  kinds: readonly ChaosFaultKind[];
  meanGapMs: number;
  durationMs: [number, number];
  /** Length of the schedule (the run stops drawing when the load is over). */
  length?: number;
}

/**
 * The seeded fault schedule: every kind once in a shuffled order first (so a short run still injects each), then
 * random kinds. Gaps are uniform in [0.5, 1.5] × `meanGapMs`.
 */
export function planFaults(options: FaultPlanOptions, rng: Random): PlannedFault[] {
  if (options.kinds.length === 0) return [];
  const length = Math.max(options.length ?? 500, options.kinds.length);
  const kinds = [...rng.shuffle(options.kinds)];
  while (kinds.length < length) kinds.push(rng.pick(options.kinds));
  return kinds.map((kind) => ({
    kind,
    gapMs: Math.round(rng.between(0.5, 1.5) * options.meanGapMs),
    durationMs: Math.round(rng.between(options.durationMs[0], options.durationMs[1])),
    target: rng.int(0, 1_000_000),
    wide: rng.chance(kind.startsWith('sink-') ? 0.2 : 0.5),
  }));
}

/** A fault that was injected, with what was seen while it lasted. */
export interface InjectedFault {
  kind: ChaosFaultKind;
  /** The process, server or channel(s) it hit. */
  target: string;
  /** Channels a sink fault or a channel worker fault affected (for the ledger's receipts-during-window count). */
  channels?: string[];
  startedAt: number;
  /** When the system was whole again (process ready, server ready, sink fault cleared). */
  endedAt: number;
  /** What was done. */
  action: string;
  /** What was observed. */
  effect: string;
  /** Gateway answers 503 while the fault lasted (filled in by {@link runFaults}). */
  gateway503?: number;
}

/** Options of {@link runFaults}. */
export interface FaultRunOptions {
  cluster: ChaosCluster;
  channels: string[];
  /** Live list of HTTP attempt outcomes of the load (to report e.g. 503s while Kafka is down). */
  events: readonly AttemptEvent[];
  /** True once the load is over: no new fault is started after that (but every kind is injected at least once). */
  done: () => boolean;
  signal?: AbortSignal;
  log: (line: string) => void;
}

function countOutcomes(events: readonly AttemptEvent[], from: number, to: number): string {
  const counts = new Map<string, number>();
  for (const e of events) if (e.at >= from && e.at <= to) counts.set(e.outcome, (counts.get(e.outcome) ?? 0) + 1);
  if (counts.size === 0) return 'no gateway answers';
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v}×${k}`)
    .join(', ');
}

async function putFaults(sinksUrl: string, rules: unknown[]): Promise<void> {
  const res = await fetch(`${sinksUrl}/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rules),
  });
  if (!res.ok) throw new Error(`PUT /faults answered ${res.status}: ${await res.text()}`);
}

async function clearFaults(sinksUrl: string): Promise<void> {
  const res = await fetch(`${sinksUrl}/faults`, { method: 'DELETE' });
  if (!res.ok && res.status !== 204) throw new Error(`DELETE /faults answered ${res.status}`);
}

const SINK_FAULT: Record<string, unknown> = {
  'sink-5xx': { fault: '5xx', status: 503 },
  'sink-timeout': { fault: 'timeout' },
  'sink-429': { fault: '429', retryAfterSeconds: 1 },
  'sink-accept-then-drop': { fault: 'accept-then-drop' },
};

/** Injects one fault and waits until it is over; returns what was done and seen. */
export async function injectFault(fault: PlannedFault, options: FaultRunOptions): Promise<InjectedFault> {
  const { cluster } = options;
  const startedAt = Date.now();
  const pickOf = <T>(items: readonly T[]): T => items[fault.target % items.length] as T;
  const restartDelay = Math.round(fault.durationMs * 0.3);

  const bounce = async (name: string, signal: 'SIGKILL' | 'SIGTERM', channels?: string[]): Promise<InjectedFault> => {
    const p = cluster.processes.get(name);
    if (p === undefined) throw new Error(`no process ${name}`);
    const pid = p.pid;
    const stopped = await p.stop(signal, 60_000);
    const downAt = Date.now();
    await sleep(restartDelay);
    await p.start();
    const endedAt = Date.now();
    const how =
      signal === 'SIGKILL'
        ? `kill -9 pid ${String(pid)}`
        : `SIGTERM pid ${String(pid)} (graceful drain: exited with code ${String(stopped.code)} after ${stopped.tookMs} ms${stopped.escalated ? ', needed SIGKILL' : ''})`;
    return {
      kind: fault.kind,
      target: name,
      channels,
      startedAt,
      endedAt,
      action: `${how}; restarted after ${restartDelay} ms`,
      effect: `down ${downAt - startedAt + restartDelay} ms; new pid ${String(p.pid)} ready ${endedAt - downAt - restartDelay} ms after restart`,
    };
  };

  switch (fault.kind) {
    case 'kill-ingest':
      return bounce(pickOf(cluster.groups.ingest), 'SIGKILL');
    case 'kill-workflow-worker':
      return bounce(pickOf(cluster.groups.workflowWorkers), 'SIGKILL');
    case 'kill-channel-worker':
    case 'term-channel-worker': {
      const channel = pickOf(options.channels);
      const workers = cluster.groups.channelWorkers[channel] ?? [];
      const name = workers[Math.floor(fault.target / options.channels.length) % workers.length] ?? '';
      return bounce(name, fault.kind === 'kill-channel-worker' ? 'SIGKILL' : 'SIGTERM', [channel]);
    }
    case 'restart-kafka':
    case 'restart-temporal': {
      const kafka = fault.kind === 'restart-kafka';
      await (kafka ? cluster.stopKafka(fault.wide) : cluster.stopTemporal(fault.wide));
      const downAt = Date.now();
      await sleep(fault.durationMs);
      const upAt = Date.now();
      await (kafka ? cluster.startKafka() : cluster.startTemporal());
      const endedAt = Date.now();
      return {
        kind: fault.kind,
        target: kafka ? 'kafka' : 'temporal',
        startedAt,
        endedAt,
        action: `${fault.wide ? 'kill -9' : 'clean stop'} of the ${kafka ? 'Kafka broker' : 'Temporal dev server'} (${downAt - startedAt} ms), down ${fault.durationMs} ms, restarted (ready after ${endedAt - upAt} ms)`,
        effect: `gateway answers while it was down: ${countOutcomes(options.events, downAt, endedAt)}`,
      };
    }
    case 'kill-kafka-broker':
    case 'kill-temporal-node':
    case 'restart-postgres': {
      const faults = cluster.clusterFaults;
      if (faults === undefined) throw new Error(`${fault.kind} needs the cluster topology (--topology cluster)`);
      const done =
        fault.kind === 'kill-kafka-broker'
          ? await faults.killLeaderBroker(fault.durationMs)
          : fault.kind === 'kill-temporal-node'
            ? await faults.killTemporalNode(fault.target, fault.durationMs)
            : await faults.restartPostgres(fault.durationMs);
      const endedAt = Date.now();
      return {
        kind: fault.kind,
        target: done.target,
        startedAt,
        endedAt,
        action: done.action,
        effect: `gateway answers meanwhile: ${countOutcomes(options.events, startedAt, endedAt)}`,
      };
    }
    case 'sink-5xx':
    case 'sink-timeout':
    case 'sink-429':
    case 'sink-accept-then-drop': {
      const channels = fault.wide ? [...options.channels] : [pickOf(options.channels)];
      const rule = SINK_FAULT[fault.kind] as Record<string, unknown>;
      await putFaults(cluster.sinksUrl, fault.wide ? [rule] : [{ ...rule, channel: channels[0] }]);
      await sleep(fault.durationMs);
      await clearFaults(cluster.sinksUrl);
      const endedAt = Date.now();
      return {
        kind: fault.kind,
        target: fault.wide ? 'all channels' : String(channels[0]),
        channels,
        startedAt,
        endedAt,
        action: `sinks answer ${JSON.stringify(rule)} on ${fault.wide ? 'every channel' : String(channels[0])} for ${fault.durationMs} ms`,
        effect: 'see receipts during the window in the ledger',
      };
    }
  }
}

/**
 * Runs the fault schedule one fault at a time until the load is over and every kind was injected (or the signal
 * aborts). Each fault is logged when it starts and with its observed effect when it ends.
 */
export async function runFaults(plan: PlannedFault[], options: FaultRunOptions): Promise<InjectedFault[]> {
  const injected: InjectedFault[] = [];
  const required = new Set(plan.map((f) => f.kind));
  const aborted = () => options.signal?.aborted === true;
  for (const fault of plan) {
    if (aborted()) break;
    const missing = [...required].filter((k) => !injected.some((f) => f.kind === k));
    if (options.done() && missing.length === 0) break;
    // Once the load is over only the kinds not yet injected are still due.
    if (options.done() && !missing.includes(fault.kind)) continue;
    await sleep(fault.gapMs, undefined, { signal: options.signal }).catch(() => undefined);
    if (aborted()) break;
    options.log(`fault ▶ ${fault.kind} (duration ${fault.durationMs} ms)`);
    const result = await injectFault(fault, options);
    result.gateway503 = options.events.filter(
      (e) => e.at >= result.startedAt && e.at <= result.endedAt && e.outcome.startsWith('503'),
    ).length;
    injected.push(result);
    options.log(`fault ■ ${result.kind} on ${result.target}: ${result.action}; effect: ${result.effect}`);
  }
  return injected;
}
