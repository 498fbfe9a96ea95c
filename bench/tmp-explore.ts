import { runWrk } from './lib/wrk.js';
import { benchRequestJson } from './lib/payload.js';
const url = `http://127.0.0.1:${process.env.HTTP_PORT}`;
for (const c of [16, 64, 256, 64]) {
  const r = await runWrk({
    url,
    path: '/v1/notifications',
    body: benchRequestJson(1),
    headers: { Authorization: 'Bearer nfy_benchtestkey123' },
    threads: 1,
    connections: c,
    durationSec: 4,
  });
  console.log(c, r.okPerSec.toFixed(0), r.p50Ms, r.p99Ms, r.errors);
}
