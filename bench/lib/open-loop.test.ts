import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOpenLoop } from './open-loop.js';

let url = '';
let handled = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const n = ++handled;
    // Every 10th request is rejected, and answers are held back 20 ms, like a slow dependency.
    setTimeout(() => {
      const status = n % 10 === 0 ? 503 : 202;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `n${n}` }));
    }, 20);
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the open-loop load generator', () => {
  it('issues the scheduled number of requests, counts rejections and reports accepted bodies', async () => {
    const ids: string[] = [];
    const res = await runOpenLoop({
      url,
      path: '/x',
      ratePerSec: 200,
      durationMs: 500,
      body: (i) => JSON.stringify({ i }),
      connections: 8,
      onAccepted: (b) => ids.push((b as { id: string }).id),
    });
    expect(res.issued).toBe(100);
    expect(res.ok + res.failed).toBe(100);
    expect(res.statuses['503']).toBe(10);
    expect(res.ok).toBe(90);
    expect(ids).toHaveLength(90);
    expect(Math.min(...res.latenciesMs)).toBeGreaterThanOrEqual(19);
  });

  it('counts client-side queueing as latency when the connections are too few for the rate', async () => {
    // One connection, 20 ms per answer: at most 50/s are served, so 100 requests due within 250 ms queue up.
    const res = await runOpenLoop({
      url,
      path: '/x',
      ratePerSec: 400,
      durationMs: 250,
      body: () => '{}',
      connections: 1,
    });
    expect(Math.max(...res.latenciesMs)).toBeGreaterThan(1_000);
  });
});
