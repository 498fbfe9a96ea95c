import type { Random } from './random.js';

/** One delivery as sent in the request body. */
export interface PlannedDelivery {
  channel: string;
  to: unknown;
  content: unknown;
}

/** One notification of the workload: its body, how it is routed, and how often it is (re-)sent. */
export interface PlannedNotification {
  seq: number;
  body: { deliveries: PlannedDelivery[]; routing: 'all' | 'fallback'; metadata: Record<string, string> };
  routing: 'all' | 'fallback';
  /** Channels of its deliveries, in order. */
  channels: string[];
  /** Set for the idempotent share: every send of this notification carries it. */
  idempotencyKey?: string;
  /** Extra sends with the same key, as delays after the first send (0: at the same time, i.e. concurrently). */
  resendDelaysMs: number[];
}

/** Valid sample deliveries per channel (what the channel's schema accepts); channels without one cannot be used. */
export const SAMPLE_DELIVERIES: Record<string, (seq: number) => PlannedDelivery> = {
  email: (seq) => ({
    channel: 'email',
    to: `chaos-${seq}@example.com`,
    content: { subject: `chaos #${seq}`, text: `chaos notification ${seq}` },
  }),
  sms: (seq) => ({
    channel: 'sms',
    to: `+1415${String(5_000_000 + (seq % 1_000_000)).padStart(7, '0')}`,
    content: { body: `chaos notification ${seq}` },
  }),
  slack: (seq) => ({ channel: 'slack', to: { channel: '#chaos' }, content: { text: `chaos notification ${seq}` } }),
};

/** Channels the workload can generate deliveries for. */
export const SUPPORTED_CHANNELS: readonly string[] = Object.keys(SAMPLE_DELIVERIES);

/** Options of {@link planWorkload}. */
export interface WorkloadOptions {
  count: number;
  channels: string[];
  idempotentShare: number;
  fallbackShare: number;
  /** Makes idempotency keys unique per run. */
  runId: string;
}

/**
 * The workload: `count` notifications over `channels`. A `fallbackShare` uses `routing: fallback` over two channels,
 * the rest `routing: all` with one channel (70%) or two (30%); an `idempotentShare` carries an Idempotency-Key and is
 * re-sent once or twice (half of the re-sends concurrently with the first send, the others 0.2–3 s later).
 */
export function planWorkload(options: WorkloadOptions, rng: Random): PlannedNotification[] {
  const out: PlannedNotification[] = [];
  for (let seq = 0; seq < options.count; seq++) {
    const fallback = options.channels.length >= 2 && rng.chance(options.fallbackShare);
    const width = fallback ? 2 : options.channels.length >= 2 && rng.chance(0.3) ? 2 : 1;
    const channels = rng.shuffle(options.channels).slice(0, width);
    const deliveries = channels.map((c) => {
      const sample = SAMPLE_DELIVERIES[c];
      if (sample === undefined)
        throw new Error(`no sample delivery for channel "${c}"; supported: ${SUPPORTED_CHANNELS.join(', ')}`);
      return sample(seq);
    });
    const routing = fallback ? 'fallback' : 'all';
    const keyed = rng.chance(options.idempotentShare);
    const resends = keyed ? rng.int(1, 2) : 0;
    out.push({
      seq,
      body: { deliveries, routing, metadata: { chaosSeq: String(seq) } },
      routing,
      channels,
      idempotencyKey: keyed ? `chaos-${options.runId}-${seq}` : undefined,
      resendDelaysMs: Array.from({ length: resends }, () =>
        rng.chance(0.5) ? 0 : Math.round(rng.between(200, 3_000)),
      ),
    });
  }
  return out;
}
