import { Agent, request } from 'node:http';

/** One open-loop load step: a fixed request rate for a fixed time. */
export interface OpenLoopOptions {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  path: string;
  /** Requests per second, issued on schedule whether or not earlier ones have answered (open loop). */
  ratePerSec: number;
  durationMs: number;
  /** Body of request number `i` (JSON). */
  body: (i: number) => string;
  /** Keep-alive connections (requests beyond this queue client-side; the wait counts as latency). */
  connections: number;
  /** How long to wait for answers after the last request was issued. */
  drainTimeoutMs?: number;
  /** Extra request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Called with each 2xx answer's parsed body and the time it arrived (ms since epoch). */
  onAccepted?: (body: unknown, at: number) => void;
}

/** What one load step measured. */
export interface OpenLoopResult {
  offeredPerSec: number;
  issued: number;
  ok: number;
  /** Non-2xx answers, socket errors and requests unanswered at the end of the drain. */
  failed: number;
  statuses: Record<string, number>;
  /** 2xx answers per second over the time from the first request to the last 2xx answer (at least the step duration). */
  acceptedPerSec: number;
  /** Latency of 2xx answers (ms), measured from the scheduled send time, so client-side queueing is included. */
  latenciesMs: number[];
  /**
   * p99 of how late the generator issued requests after their due time (ms): the generator's own headroom. Well
   * above a few ms means the generator could not keep the schedule (generator-bound), not that the server is slow.
   */
  issueLagP99Ms: number;
}

/**
 * Open-loop HTTP load with coordinated-omission correction: request i is due at `start + i / rate`; its latency is
 * taken from that due time, not from when a connection became free. Uses node:http keep-alive sockets (cheaper per
 * request than fetch), so one generator core can offer roughly 10k requests/s.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections });
  const target = new URL(options.path, options.url);
  const total = Math.max(1, Math.round((options.ratePerSec * options.durationMs) / 1000));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let issued = 0;
  let answered = 0;
  let ok = 0;
  let lastOk = 0;
  const start = performance.now();
  const wall = Date.now() - start;
  let resolveDone: () => void = () => undefined;
  const allAnswered = new Promise<void>((r) => {
    resolveDone = r;
  });
  const count = (key: string) => {
    statuses[key] = (statuses[key] ?? 0) + 1;
    answered++;
    if (answered === total) resolveDone();
  };

  const issueLags: number[] = [];
  const fire = (i: number) => {
    const due = start + (i * 1000) / options.ratePerSec;
    issueLags.push(performance.now() - due);
    const payload = Buffer.from(options.body(i));
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const now = performance.now();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            ok++;
            lastOk = now;
            latencies.push(now - due);
            if (options.onAccepted !== undefined) {
              try {
                options.onAccepted(JSON.parse(Buffer.concat(chunks).toString('utf8')), wall + now);
              } catch {
                // A 2xx without a JSON body still counts as accepted.
              }
            }
          }
          count(String(status));
        });
        res.on('error', () => count('response-error'));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => count(err.code ?? 'socket-error'));
    req.end(payload);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * options.ratePerSec) / 1000) + 1);
      while (issued < due) fire(issued++);
      if (issued >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const drain = options.drainTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([allAnswered, new Promise<void>((r) => (timer = setTimeout(r, drain)))]);
  clearTimeout(timer);
  agent.destroy();
  const unanswered = total - answered;
  if (unanswered > 0) statuses.unanswered = unanswered;
  const elapsedMs = Math.max(options.durationMs, (lastOk || start) - start);
  return {
    offeredPerSec: options.ratePerSec,
    issued,
    ok,
    failed: total - ok,
    statuses,
    acceptedPerSec: (ok * 1000) / elapsedMs,
    latenciesMs: latencies,
    issueLagP99Ms:
      [...issueLags].sort((a, b) => a - b)[Math.max(0, Math.ceil(issueLags.length * 0.99) - 1)] ?? Number.NaN,
  };
}
