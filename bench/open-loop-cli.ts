import { runOpenLoop } from './lib/open-loop.js';
import { summarize } from './lib/stats.js';

/**
 * The open-loop generator of `bench/lib/open-loop.ts` as its own process (so it never shares an event loop with the
 * bench or the server): argv[2] is a JSON `{ url, path, ratePerSec, durationMs, connections, body, headers }`
 * (`body` is one JSON request sent every time). Prints one line `OPEN_LOOP {…}` with rates, latency percentiles and
 * the generator's own issue lag.
 */
async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as {
    url: string;
    path: string;
    ratePerSec: number;
    durationMs: number;
    connections: number;
    body: string;
    headers?: Record<string, string>;
  };
  const res = await runOpenLoop({
    url: o.url,
    path: o.path,
    ratePerSec: o.ratePerSec,
    durationMs: o.durationMs,
    connections: o.connections,
    headers: o.headers,
    body: () => o.body,
  });
  const lat = summarize(res.latenciesMs);
  console.log(
    `OPEN_LOOP ${JSON.stringify({ offeredPerSec: res.offeredPerSec, acceptedPerSec: res.acceptedPerSec, issued: res.issued, failed: res.failed, statuses: res.statuses, p50Ms: lat.p50, p99Ms: lat.p99, p999Ms: lat.p999, issueLagP99Ms: res.issueLagP99Ms })}`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
