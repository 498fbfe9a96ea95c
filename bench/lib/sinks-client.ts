import type { Component } from './components.js';
import { startComponent, whenHttpOk } from './components.js';
import type { BenchContext } from './context.js';
import { freePort } from './private-infra.js';

/** The dev sinks as a separate process (so the load generator and the sinks do not share a core's event loop). */
export interface SinksProcess {
  component: Component;
  url: string;
  /** The SMTP sink's port (point `EMAIL_HOST`/`EMAIL_PORT` of an email worker here). */
  smtpPort: number;
  /** Messages of `channel` (default `sms`) received so far: notification id and arrival time (ms since epoch). */
  received(channel?: string): Promise<Array<{ notificationId: string; receivedAt: number }>>;
  /** Forgets received messages. */
  reset(): Promise<void>;
}

/** Starts `npm run sinks` on free ports. */
export async function startSinksProcess(ctx: BenchContext): Promise<SinksProcess> {
  const [httpPort, smtpPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${httpPort}`;
  const component = await startComponent({
    name: 'sinks',
    script: 'dev/sinks/main.ts',
    env: ctx.env({ SINKS_HTTP_PORT: String(httpPort), SINKS_SMTP_PORT: String(smtpPort), LOG_LEVEL: 'warn' }),
    logDir: ctx.logDir,
    ready: whenHttpOk(`${url}/healthz`),
  });
  return {
    component,
    url,
    smtpPort,
    async received(channel = 'sms') {
      const res = await fetch(`${url}/messages?channel=${encodeURIComponent(channel)}`);
      if (!res.ok) throw new Error(`sinks answered ${res.status} to GET /messages`);
      return ((await res.json()) as Array<{ notificationId: string; receivedAt: number }>).map((m) => ({
        notificationId: m.notificationId,
        receivedAt: m.receivedAt,
      }));
    },
    async reset() {
      await fetch(`${url}/messages`, { method: 'DELETE' });
    },
  };
}

/**
 * Polls the sinks until every id in `ids` has arrived or `timeoutMs` passed; returns the first arrival time per id.
 * Polling is 1 s apart: each poll transfers the whole message list.
 */
export async function waitForDeliveries(
  sinks: SinksProcess,
  ids: ReadonlySet<string>,
  timeoutMs: number,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const arrivals = new Map<string, number>();
    for (const m of await sinks.received()) {
      if (ids.has(m.notificationId) && !arrivals.has(m.notificationId)) arrivals.set(m.notificationId, m.receivedAt);
    }
    if (arrivals.size >= ids.size || Date.now() > deadline) return arrivals;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
