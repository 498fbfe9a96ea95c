import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KafkajsRequestQueue } from './kafkajs-request-queue-fix.js';
import {
  applyKafkajsRequestQueueFix,
  KAFKAJS_FIXED_VERSION,
  kafkajsRequestQueueClass,
} from './kafkajs-request-queue-fix.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A request queue as kafkajs builds one per broker connection, here without a socket behind it. */
function requestQueue(): KafkajsRequestQueue & {
  maybeThrottle(ms: number): void;
  push(request: unknown): void;
  canSendSocketRequestImmediately(): boolean;
} {
  const RequestQueue = kafkajsRequestQueueClass();
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'fix-test',
    broker: '127.0.0.1:9092',
    logger: silent,
  }) as never;
}

/** A request as kafkajs' connection pushes it; `sent` counts how often the queue handed it to the socket. */
function pushedRequest(correlationId: number): { request: unknown; sent: () => number } {
  let sent = 0;
  return {
    request: {
      entry: {
        correlationId,
        apiKey: 0,
        apiName: 'Produce',
        apiVersion: 7,
        resolve: () => undefined,
        reject: () => undefined,
      },
      expectResponse: true,
      sendRequest: () => {
        sent++;
      },
    },
    sent: () => sent,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('kafkajs request-queue fix', () => {
  it('is applied to the kafkajs release it was written for, the one package.json pins', () => {
    const require = createRequire(import.meta.url);
    const pinned = (require('../../package.json') as { dependencies: Record<string, string> }).dependencies.kafkajs;
    expect(pinned).toBe(KAFKAJS_FIXED_VERSION);
    expect(applyKafkajsRequestQueueFix()).toBe(true);
  });

  it('arms no timer for a connection with nothing queued and no throttle, where kafkajs 2.2.4 re-arms a 1 ms timer forever', () => {
    applyKafkajsRequestQueueFix();
    vi.useFakeTimers();
    const queue = requestQueue();
    const check = vi.spyOn(queue, 'checkPendingRequests');
    queue.checkPendingRequests();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(check).toHaveBeenCalledTimes(1);
  });

  it('still sends a request queued behind the in-flight limit once the in-flight one is answered', () => {
    applyKafkajsRequestQueueFix();
    vi.useFakeTimers();
    const queue = requestQueue() as ReturnType<typeof requestQueue> & {
      fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
    };
    const first = pushedRequest(1);
    const second = pushedRequest(2);
    queue.push(first.request);
    queue.push(second.request);
    expect([first.sent(), second.sent()]).toEqual([1, 0]);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(second.sent()).toBe(1);
  });

  it('checks a request queued while the broker throttles the client when the throttle ends, then goes quiet', () => {
    applyKafkajsRequestQueueFix();
    vi.useFakeTimers();
    const queue = requestQueue();
    queue.maybeThrottle(200);
    const throttled = pushedRequest(7);
    queue.push(throttled.request);
    expect(throttled.sent()).toBe(0);
    vi.advanceTimersByTime(150);
    expect(throttled.sent()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(throttled.sent()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
