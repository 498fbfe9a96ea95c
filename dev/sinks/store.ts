import type { FaultRule, FaultSubject, SinkChannel, SinkProvider } from './faults.js';
import { matchFault } from './faults.js';

/** One message a sink accepted. */
export interface SinkMessage {
  /** 1, 2, 3… in arrival order (not reset by `reset()`, so a seq is never reused). */
  seq: number;
  channel: SinkChannel;
  /** Which fake provider accepted it (`smtp` / `smtp-2`, `twilio` / `vonage`, `slack`, `webhook`). */
  provider: SinkProvider;
  /** From `X-Notification-Id`; empty when the sender did not send it. */
  notificationId: string;
  /** From the Message-ID (email), `Idempotency-Key` or `webhook-id`; empty when absent. */
  idempotencyKey: string;
  /** The id the sink answered with (SMTP queue id, Twilio sid, Slack `channel:ts`, webhook id). */
  providerMessageId: string;
  /** Recipient(s). */
  to: string | string[];
  /** Subject (email), body (sms), text (slack) or a JSON excerpt (webhook). */
  summary: string;
  /** Arrival time, ms since the epoch. */
  receivedAt: number;
  /** Which attempt for this idempotency key this was (failed attempts count too). */
  attemptNo: number;
  /** Protocol details for inspection: headers, parsed body, metadata. */
  details: Record<string, unknown>;
}

/** Filter for `received()` and `GET /messages`. */
export interface MessageFilter {
  notificationId?: string;
  channel?: string;
  idempotencyKey?: string;
  provider?: string;
}

interface Waiter {
  predicate: (m: SinkMessage) => boolean;
  resolve: (m: SinkMessage) => void;
}

/**
 * In-memory state shared by the SMTP and HTTP sinks: received messages, attempt counters per idempotency key,
 * fault rules and waiters. Nothing is persisted: it is a development and test aid.
 */
export class SinkStore {
  private readonly messages: SinkMessage[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private rules: FaultRule[] = [];
  private seq = 0;
  private anonymous = 0;

  /** Counts an attempt for `idempotencyKey` and returns its number (a request without a key is always attempt 1). */
  nextAttempt(channel: SinkChannel, idempotencyKey: string): number {
    const key = idempotencyKey === '' ? `anonymous-${++this.anonymous}` : `${channel}\u0000${idempotencyKey}`;
    const n = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, n);
    return n;
  }

  /** The fault to inject for this request, if any rule matches. */
  faultFor(subject: FaultSubject): FaultRule | undefined {
    return matchFault(this.rules, subject);
  }

  /** Stores an accepted message and wakes matching waiters. */
  record(message: Omit<SinkMessage, 'seq' | 'receivedAt'>): SinkMessage {
    const stored: SinkMessage = { ...message, seq: ++this.seq, receivedAt: Date.now() };
    this.messages.push(stored);
    for (const w of [...this.waiters]) {
      if (w.predicate(stored)) {
        this.waiters.delete(w);
        w.resolve(stored);
      }
    }
    return stored;
  }

  /** Received messages, oldest first, optionally filtered. */
  received(filter?: MessageFilter | ((m: SinkMessage) => boolean)): SinkMessage[] {
    if (filter === undefined) return [...this.messages];
    if (typeof filter === 'function') return this.messages.filter(filter);
    return this.messages.filter(
      (m) =>
        (filter.notificationId === undefined || m.notificationId === filter.notificationId) &&
        (filter.channel === undefined || m.channel === filter.channel) &&
        (filter.idempotencyKey === undefined || m.idempotencyKey === filter.idempotencyKey) &&
        (filter.provider === undefined || m.provider === filter.provider),
    );
  }

  /** Resolves with the first message (already received or future) matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (m: SinkMessage) => boolean, timeoutMs: number): Promise<SinkMessage> {
    const existing = this.messages.find(predicate);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise<SinkMessage>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `no matching message arrived at the sinks within ${timeoutMs} ms (${this.messages.length} received in all)`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Replaces the fault rules. */
  setFaults(rules: FaultRule[]): void {
    this.rules = [...rules];
  }

  /** Current fault rules. */
  faults(): FaultRule[] {
    return [...this.rules];
  }

  /** Forgets received messages and attempt counters (fault rules stay). */
  reset(): void {
    this.messages.length = 0;
    this.attempts.clear();
  }
}
