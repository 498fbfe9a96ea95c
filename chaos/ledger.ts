import type { InjectedFault } from './faults.js';
import type { Acknowledged } from './load.js';

/** The fields of a sink message the ledger needs (a subset of the sinks' `GET /messages` answer). */
export interface SinkReceipt {
  channel: string;
  notificationId: string;
  idempotencyKey: string;
  providerMessageId: string;
  /** ms since the epoch, stamped by the sinks. */
  receivedAt: number;
}

/** What the load generator counted at the gateway. */
export interface GatewayCounts {
  planned: number;
  sends: number;
  attempts: number;
  rejectionsByReason: Record<string, number>;
  gaveUpByReason: Record<string, number>;
  idempotencyMismatches: number;
}

/** Inputs of {@link buildLedger}. */
export interface LedgerInput {
  acknowledged: Iterable<Acknowledged>;
  receipts: readonly SinkReceipt[];
  gateway: GatewayCounts;
  faults: readonly InjectedFault[];
  /** When the load ended and the last fault was over: the drain starts here. */
  quietAt: number;
  /** When every acknowledged notification was delivered (undefined: the drain timed out). */
  drainedAt?: number;
  /** A duplicate is attributed to a fault whose window (extended by this much) covers it. Default 30 s. */
  attributionSlackMs?: number;
}

/** A duplicate group: more than one receipt for one notification on one channel. */
export interface DuplicateDetail {
  notificationId: string;
  channel: string;
  receipts: number;
  sameProviderMessageId: boolean;
  sameIdempotencyKey: boolean;
  attributedTo: string;
}

/** Latency percentiles in ms. */
export interface Percentiles {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** An injected fault with the deliveries the sinks recorded while it lasted. */
export interface LedgerFault extends InjectedFault {
  /** Receipts (on the affected channels for sink faults, all channels otherwise) during the fault. */
  receiptsDuring: number;
  receiptsPerSecondDuring: number;
  /** Same, over the 10 s before the fault started. */
  receiptsPerSecondBefore: number;
}

/** The chaos run's verdict: what was promised (202), what was delivered, what was lost or duplicated, and how fast. */
export interface Ledger {
  acknowledged: number;
  /** Acknowledged notifications with a receipt for every required delivery (all: each channel; fallback: any). */
  delivered: number;
  /** Acknowledged but never delivered. Must be 0. */
  lost: number;
  lostIds: string[];
  duplicates: {
    /** Extra receipts beyond the first, per notification and channel. */
    deliveries: number;
    /** `deliveries` as a percentage of unique (notification, channel) receipts. */
    percent: number;
    notifications: number;
    sameProviderMessageId: number;
    differentProviderMessageId: number;
    sameIdempotencyKey: number;
    differentIdempotencyKey: number;
    byFault: Record<string, number>;
    /** Up to 50 examples. */
    examples: DuplicateDetail[];
  };
  /** Fallback notifications delivered on more than one of their channels (extra channels counted). */
  fallbackExtraDeliveries: number;
  /** Notification ids the sinks received that were never acknowledged (keyless retries after ambiguous 503s/timeouts). */
  unacknowledgedDelivered: number;
  gateway: GatewayCounts & { notificationsRejected: number };
  /** 202 → first sink receipt completing the notification. */
  latencyMs: Percentiles;
  drain: { timeToDrainMs: number | null; timedOut: boolean };
  faults: LedgerFault[];
  /** Gateway 503 answers while a fault of each kind lasted (summed over that kind's injections). */
  gateway503ByFaultKind: Record<string, number>;
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0);
  return { samples: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

/**
 * Builds the ledger from the acknowledged ids and the sinks' receipts (pure: the unit tests feed it by hand).
 * A duplicate is attributed to the latest fault that started before its first receipt and ended (plus the slack)
 * after its extra receipt; with none it is `unattributed`.
 */
export function buildLedger(input: LedgerInput): Ledger {
  const slack = input.attributionSlackMs ?? 30_000;
  const byId = new Map<string, SinkReceipt[]>();
  for (const r of input.receipts) {
    const list = byId.get(r.notificationId);
    if (list === undefined) byId.set(r.notificationId, [r]);
    else list.push(r);
  }
  const acked = [...input.acknowledged];
  const ackedIds = new Set(acked.map((a) => a.id));

  let delivered = 0;
  const lostIds: string[] = [];
  const latencies: number[] = [];
  const dup = {
    deliveries: 0,
    percent: 0,
    notifications: 0,
    sameProviderMessageId: 0,
    differentProviderMessageId: 0,
    sameIdempotencyKey: 0,
    differentIdempotencyKey: 0,
    byFault: {} as Record<string, number>,
    examples: [] as DuplicateDetail[],
  };
  let uniqueReceipts = 0;
  let fallbackExtra = 0;

  const attribute = (first: number, extra: number): string => {
    let best: InjectedFault | undefined;
    for (const f of input.faults) {
      if (
        f.startedAt - 1_000 <= first &&
        extra <= f.endedAt + slack &&
        (best === undefined || f.startedAt > best.startedAt)
      )
        best = f;
    }
    return best === undefined ? 'unattributed' : `${best.kind} (${best.target})`;
  };

  for (const a of acked) {
    const receipts = (byId.get(a.id) ?? []).slice().sort((x, y) => x.receivedAt - y.receivedAt);
    const firstByChannel = new Map<string, SinkReceipt>();
    let hasDuplicate = false;
    for (const r of receipts) {
      const first = firstByChannel.get(r.channel);
      if (first === undefined) {
        firstByChannel.set(r.channel, r);
        uniqueReceipts++;
        continue;
      }
      hasDuplicate = true;
      dup.deliveries++;
      const sameProvider = r.providerMessageId === first.providerMessageId;
      const sameKey = r.idempotencyKey === first.idempotencyKey;
      if (sameProvider) dup.sameProviderMessageId++;
      else dup.differentProviderMessageId++;
      if (sameKey) dup.sameIdempotencyKey++;
      else dup.differentIdempotencyKey++;
      const cause = attribute(first.receivedAt, r.receivedAt);
      dup.byFault[cause] = (dup.byFault[cause] ?? 0) + 1;
      if (dup.examples.length < 50) {
        dup.examples.push({
          notificationId: a.id,
          channel: r.channel,
          receipts: receipts.filter((x) => x.channel === r.channel).length,
          sameProviderMessageId: sameProvider,
          sameIdempotencyKey: sameKey,
          attributedTo: cause,
        });
      }
    }
    if (hasDuplicate) dup.notifications++;

    const firsts = a.channels.map((c) => firstByChannel.get(c)?.receivedAt);
    let completedAt: number | undefined;
    if (a.routing === 'fallback') {
      const got = firsts.filter((t): t is number => t !== undefined);
      if (got.length > 0) completedAt = Math.min(...got);
      fallbackExtra += Math.max(0, got.length - 1);
    } else if (firsts.every((t) => t !== undefined)) {
      completedAt = Math.max(...firsts);
    }
    if (completedAt === undefined) {
      lostIds.push(a.id);
    } else {
      delivered++;
      latencies.push(completedAt - a.ackedAt);
    }
  }
  dup.percent = uniqueReceipts === 0 ? 0 : Math.round((dup.deliveries / uniqueReceipts) * 10_000) / 100;

  const faults: LedgerFault[] = input.faults.map((f) => {
    const affects = (r: SinkReceipt) => f.channels === undefined || f.channels.includes(r.channel);
    const during = input.receipts.filter(
      (r) => affects(r) && r.receivedAt >= f.startedAt && r.receivedAt <= f.endedAt,
    ).length;
    const before = input.receipts.filter(
      (r) => affects(r) && r.receivedAt >= f.startedAt - 10_000 && r.receivedAt < f.startedAt,
    ).length;
    const seconds = Math.max(0.001, (f.endedAt - f.startedAt) / 1000);
    return {
      ...f,
      receiptsDuring: during,
      receiptsPerSecondDuring: Math.round((during / seconds) * 10) / 10,
      receiptsPerSecondBefore: Math.round((before / 10) * 10) / 10,
    };
  });

  const unacknowledged = [...byId.keys()].filter((id) => !ackedIds.has(id)).length;
  return {
    acknowledged: acked.length,
    delivered,
    lost: lostIds.length,
    lostIds: lostIds.slice(0, 100),
    duplicates: dup,
    fallbackExtraDeliveries: fallbackExtra,
    unacknowledgedDelivered: unacknowledged,
    gateway: {
      ...input.gateway,
      notificationsRejected: Object.values(input.gateway.gaveUpByReason).reduce((a, b) => a + b, 0),
    },
    latencyMs: percentiles(latencies),
    drain: {
      timeToDrainMs: input.drainedAt === undefined ? null : Math.max(0, input.drainedAt - input.quietAt),
      timedOut: input.drainedAt === undefined,
    },
    faults,
    gateway503ByFaultKind: faults.reduce<Record<string, number>>(
      (acc, f) => ({ ...acc, [f.kind]: (acc[f.kind] ?? 0) + (f.gateway503 ?? 0) }),
      {},
    ),
  };
}

/** Human-readable summary of a ledger (what `npm run chaos` prints). */
export function formatLedger(ledger: Ledger): string {
  const d = ledger.duplicates;
  const lines = [
    '──────────── chaos ledger ────────────',
    `acknowledged (202)        ${ledger.acknowledged}`,
    `delivered (unique)        ${ledger.delivered}`,
    `LOST                      ${ledger.lost}${ledger.lost > 0 ? `   e.g. ${ledger.lostIds.slice(0, 5).join(', ')}` : ''}`,
    `duplicate deliveries      ${d.deliveries} (${d.percent}%) in ${d.notifications} notifications; same provider id ${d.sameProviderMessageId} / different ${d.differentProviderMessageId}; same idempotency key ${d.sameIdempotencyKey} / different ${d.differentIdempotencyKey}`,
    ...Object.entries(d.byFault).map(([cause, n]) => `    ${String(n).padStart(5)} × ${cause}`),
    `fallback extra channels   ${ledger.fallbackExtraDeliveries}`,
    `delivered, never acked    ${ledger.unacknowledgedDelivered}`,
    `gateway                   ${ledger.gateway.planned} planned, ${ledger.gateway.sends} sends, ${ledger.gateway.attempts} HTTP attempts; ${ledger.gateway.notificationsRejected} notifications never accepted; idempotency mismatches ${ledger.gateway.idempotencyMismatches}`,
    ...Object.entries(ledger.gateway.rejectionsByReason).map(
      ([why, n]) => `    ${String(n).padStart(5)} × rejected attempt: ${why}`,
    ),
    ...Object.entries(ledger.gateway.gaveUpByReason).map(
      ([why, n]) => `    ${String(n).padStart(5)} × gave up after: ${why}`,
    ),
    `latency 202 → delivered   p50 ${ledger.latencyMs.p50} ms, p90 ${ledger.latencyMs.p90} ms, p99 ${ledger.latencyMs.p99} ms, max ${ledger.latencyMs.max} ms (${ledger.latencyMs.samples} samples)`,
    `time to drain             ${ledger.drain.timedOut ? 'TIMED OUT' : `${ledger.drain.timeToDrainMs} ms`}`,
    `503s per fault kind       ${
      Object.entries(ledger.gateway503ByFaultKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'no faults'
    }`,
    `faults injected           ${ledger.faults.length}`,
    ...ledger.faults.map(
      (f) =>
        `    ${new Date(f.startedAt).toISOString()} ${f.kind.padEnd(22)} ${f.target.padEnd(18)} ${String(f.endedAt - f.startedAt).padStart(6)} ms  receipts/s ${f.receiptsPerSecondBefore} → ${f.receiptsPerSecondDuring}; ${f.effect}`,
    ),
  ];
  return lines.join('\n');
}
