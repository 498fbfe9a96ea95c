import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../helpers/pipeline.js';
import type { Pipeline } from '../helpers/pipeline.js';
import { contentType, garbageBytes, headerValue, mutatedBody, nastyValue } from './arbitraries.js';

/**
 * A smaller bad-input sample against the real pipeline (HTTP server, real Kafka, ingest, Temporal, workers): no 5xx,
 * every 4xx explains itself, nothing the gateway accepted is dead-lettered by ingest, and the service still
 * delivers a valid notification afterwards.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p?.close();
});

const sample = fc.oneof(
  nastyValue.map((v) => ({
    body: Buffer.from(JSON.stringify(v) ?? 'null'),
    type: 'application/json',
    key: undefined as string | undefined,
  })),
  fc.tuple(mutatedBody, headerValue).map(([v, key]) => ({
    body: Buffer.from(JSON.stringify(v) ?? 'null'),
    type: 'application/json',
    key: key === '' ? undefined : key,
  })),
  fc.tuple(garbageBytes, contentType).map(([body, type]) => ({ body, type, key: undefined as string | undefined })),
);

describe('bad input through the real pipeline', () => {
  it('never answers 5xx, explains every 4xx, dead-letters nothing it accepted, and still delivers afterwards', async () => {
    const accepted: string[] = [];
    for (const input of fc.sample(sample, { numRuns: 60, seed: 42 })) {
      const headers: Record<string, string> = { 'content-type': input.type, authorization: `Bearer ${p.apiKey}` };
      if (input.key !== undefined) headers['idempotency-key'] = input.key;
      const res = await fetch(`${p.url}/v1/notifications`, { method: 'POST', headers, body: input.body });
      expect(res.status).toBeLessThan(500);
      const body = (await res.json()) as { id?: string; message?: string };
      if (res.status === 202) accepted.push(String(body.id));
      else expect(typeof body.message).toBe('string');
    }
    const res = await p.post('/v1/notifications', {
      deliveries: [{ channel: 'sms', to: '+14155550999', content: { body: 'still working' } }],
    });
    expect(res.status).toBe(202);
    await p.waitForStatus(String(res.body.id), 'sent');
    for (const id of accepted) await p.waitForStatus(id, 'sent');
    expect(p.ingestEvents.filter((e) => e.type === 'dead-lettered')).toEqual([]);
  });
});
