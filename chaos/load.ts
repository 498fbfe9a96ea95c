import { setTimeout as sleep } from 'node:timers/promises';
import type { PlannedNotification } from './workload.js';

/** A notification the gateway acknowledged (202): the chaos run's promise to check. */
export interface Acknowledged {
  id: string;
  seq: number;
  /** When the first 202 for this id arrived (ms since the epoch). */
  ackedAt: number;
  routing: 'all' | 'fallback';
  channels: string[];
  keyed: boolean;
  /** 202 answers for this id (more than 1 for re-sent idempotent notifications). */
  acks: number;
}

/** One HTTP attempt's outcome: `202`, or the reason it was rejected (e.g. `503 KAFKA_UNAVAILABLE`, `timeout`). */
export interface AttemptEvent {
  at: number;
  outcome: string;
}

/** What the load generator observed. */
export interface LoadReport {
  planned: number;
  /** Sends, re-sends included. */
  sends: number;
  /** HTTP attempts, retries included. */
  attempts: number;
  acknowledged: Map<string, Acknowledged>;
  /** Non-202 attempts by reason. */
  rejectionsByReason: Record<string, number>;
  /** Notifications that never got a 202 (every send exhausted its attempts or hit a 4xx), by last reason. */
  gaveUpByReason: Record<string, number>;
  /** Sends of one Idempotency-Key that were answered with different ids (must be 0). */
  idempotencyMismatches: number;
  events: AttemptEvent[];
  startedAt: number;
  endedAt: number;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  gatewayUrl: string;
  /** Submissions started per second (open loop). */
  rate: number;
  maxAttempts: number;
  requestTimeoutMs: number;
  /** Stops scheduling new submissions (already started ones finish). */
  signal?: AbortSignal;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Every attempt's outcome is appended here as it happens (the fault runner reads it live). */
  events?: AttemptEvent[];
}

type SendResult = { ok: true; id: string } | { ok: false; reason: string };

async function attempt(
  url: string,
  body: unknown,
  key: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; id?: string; reason: string; retryAfterMs?: number }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key !== undefined ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: { id?: unknown; code?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // not JSON: the reason is the status alone
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return {
      status: res.status,
      id: typeof parsed.id === 'string' ? parsed.id : undefined,
      reason: `${res.status}${typeof parsed.code === 'string' ? ` ${parsed.code}` : ''}`,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { status: 0, reason: 'timeout (no answer)' };
    return { status: 0, reason: `network error ${e.cause?.code ?? e.message}` };
  }
}

/**
 * Submits the workload at a steady open-loop rate: submission i starts at `start + i / rate` whatever happened to the
 * earlier ones. 503s, 5xx, network errors and timeouts are retried (Retry-After, else exponential back-off up to 5 s)
 * up to `maxAttempts`, with the same Idempotency-Key when the notification has one (a keyless retry may create a second
 * notification; the ledger counts such deliveries as unacknowledged). 4xx answers are not retried.
 */
export async function runLoad(plan: PlannedNotification[], options: LoadOptions): Promise<LoadReport> {
  const url = `${options.gatewayUrl}/v1/notifications`;
  const report: LoadReport = {
    planned: plan.length,
    sends: 0,
    attempts: 0,
    acknowledged: new Map(),
    rejectionsByReason: {},
    gaveUpByReason: {},
    idempotencyMismatches: 0,
    events: options.events ?? [],
    startedAt: Date.now(),
    endedAt: 0,
  };

  const send = async (n: PlannedNotification): Promise<SendResult> => {
    report.sends++;
    let reason = 'not sent';
    for (let i = 1; i <= options.maxAttempts; i++) {
      report.attempts++;
      const r = await attempt(url, n.body, n.idempotencyKey, options.requestTimeoutMs);
      const at = Date.now();
      if (r.status === 202 && r.id !== undefined) {
        report.events.push({ at, outcome: '202' });
        return { ok: true, id: r.id };
      }
      reason = r.reason;
      report.events.push({ at, outcome: reason });
      report.rejectionsByReason[reason] = (report.rejectionsByReason[reason] ?? 0) + 1;
      const retryable = r.status === 0 || r.status >= 500 || r.status === 429;
      if (!retryable) break;
      await sleep(Math.min(r.retryAfterMs ?? 500 * 2 ** (i - 1), 5_000) * (0.75 + Math.random() * 0.5));
    }
    return { ok: false, reason };
  };

  const record = (n: PlannedNotification, id: string) => {
    const known = report.acknowledged.get(id);
    if (known !== undefined) {
      known.acks++;
      return;
    }
    report.acknowledged.set(id, {
      id,
      seq: n.seq,
      ackedAt: Date.now(),
      routing: n.routing,
      channels: n.channels,
      keyed: n.idempotencyKey !== undefined,
      acks: 1,
    });
  };

  const submit = async (n: PlannedNotification): Promise<void> => {
    const sends = [
      send(n),
      ...n.resendDelaysMs.map(async (delay) => (delay > 0 ? sleep(delay).then(() => send(n)) : send(n))),
    ];
    // Record each 202 as it arrives, so ackedAt is the first acknowledgement.
    const results = await Promise.all(sends.map((p) => p.then((r) => (r.ok && record(n, r.id), r))));
    const ids = new Set(results.flatMap((r) => (r.ok ? [r.id] : [])));
    if (ids.size > 1) report.idempotencyMismatches++;
    if (ids.size === 0) {
      const last = results.at(-1);
      const reason = last !== undefined && !last.ok ? last.reason : 'unknown';
      report.gaveUpByReason[reason] = (report.gaveUpByReason[reason] ?? 0) + 1;
    }
  };

  const inFlight = new Set<Promise<void>>();
  const start = Date.now();
  let lastProgress = start;
  for (const n of plan) {
    if (options.signal?.aborted === true) break;
    const due = start + (n.seq * 1000) / options.rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const p = submit(n).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (Date.now() - lastProgress >= 15_000) {
      lastProgress = Date.now();
      const rejected = Object.values(report.rejectionsByReason).reduce((a, b) => a + b, 0);
      options.log?.(
        `load: ${n.seq + 1}/${plan.length} submitted, ${report.acknowledged.size} acknowledged, ${rejected} rejected attempts, ${inFlight.size} in flight`,
      );
    }
  }
  await Promise.all([...inFlight]);
  report.endedAt = Date.now();
  return report;
}
