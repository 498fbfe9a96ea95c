import { createRequire } from 'node:module';

/** The kafkajs release whose request queue {@link applyKafkajsRequestQueueFix} was written against (pinned in package.json). */
export const KAFKAJS_FIXED_VERSION = '2.2.4';

/** kafkajs' own delay between checks of a queue that holds requests (its `CHECK_PENDING_REQUESTS_INTERVAL`). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** The parts of kafkajs' per-connection `RequestQueue` that the fix reads and replaces. */
export interface KafkajsRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

interface RequestQueueClass {
  prototype: KafkajsRequestQueue;
  new (options: Record<string, unknown>): KafkajsRequestQueue;
}

const require = createRequire(import.meta.url);
let applied: boolean | undefined;

/** kafkajs' `RequestQueue` class (one instance per broker connection), from the installed package. */
export function kafkajsRequestQueueClass(): RequestQueueClass {
  return require('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
}

/**
 * Replaces kafkajs 2.2.4's `RequestQueue.scheduleCheckPendingRequests` by one that schedules a check only when there
 * is something to check: requests waiting in the queue, or a broker throttle that ends in the future.
 *
 * Why: in 2.2.4 a queue with nothing pending and no throttle computes `throttledUntil (-1) - Date.now()`, a negative
 * delay, and arms a 1 ms timer whose callback re-arms it: every broker connection of every client spins about 1,000
 * timer callbacks per second for its whole life (tulios/kafkajs#1556, #1704; fix proposed in #1667, never released).
 * That is a few per cent of a core per idle process (gateway, ingest) and timer churn under load. Requests that
 * cannot be sent at once still schedule their check (`push` calls this with the request queued), and a finished
 * in-flight request still triggers one (`fulfillRequest`), so nothing waits longer than before.
 *
 * Applied once per process, only to the version it was written for; returns whether the fix is in place.
 */
export function applyKafkajsRequestQueueFix(): boolean {
  if (applied !== undefined) return applied;
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_FIXED_VERSION) return (applied = false);
  kafkajsRequestQueueClass().prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return (applied = true);
}

function scheduleCheckPendingRequests(this: KafkajsRequestQueue): void {
  if (this.throttleCheckTimeoutId !== null) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  let delayMs: number;
  if (this.pending.length > 0) delayMs = untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  else if (untilUnthrottled > 0) delayMs = untilUnthrottled;
  else return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delayMs);
}
