import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline } from './helpers/pipeline.js';
import { eventually } from './helpers/kafka.js';

/**
 * End to end: HTTP → gateway → real Kafka → ingest → real Temporal → channel workers → real senders → dev sinks.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p?.close();
});
beforeEach(() => {
  p.sinks.clearFaults();
});

const email = (to: string, subject = 'Hello') => ({ channel: 'email', to, content: { subject, text: `Hi ${to}` } });
const sms = (to: string) => ({ channel: 'sms', to, content: { body: 'Your code is 123456' } });
const idOf = (res: { body: Record<string, unknown> }) => String(res.body.id);

async function runsOf(id: string): Promise<number> {
  let n = 0;
  for await (const _ of p.client.workflow.list({ query: `WorkflowId = '${id}'` })) n++;
  return n;
}

describe('the pipeline', () => {
  it('delivers an email submitted over HTTP and reports it sent with the provider message id', async () => {
    const res = await p.post('/v1/notifications', { deliveries: [email('ada@example.com')] });
    expect(res.status).toBe(202);
    const id = idOf(res);
    const sent = await p.waitForStatus(id, 'sent');
    const received = p.sinks.received({ notificationId: id });
    expect(received).toHaveLength(1);
    expect(received[0]?.channel).toBe('email');
    expect(sent.deliveries[0]?.providerMessageId).toBeTruthy();
    expect(sent.deliveries[0]?.providerMessageId).toBe(received[0]?.providerMessageId);
    expect(received[0]?.idempotencyKey).toBe(`${id}.email`);
  });

  it('delivers on every channel when routing is all', async () => {
    const res = await p.post('/v1/notifications', {
      deliveries: [
        email('all@example.com'),
        sms('+14155550100'),
        { channel: 'slack', to: { channel: '#alerts' }, content: { text: 'deployed' } },
      ],
    });
    const id = idOf(res);
    const sent = await p.waitForStatus(id, 'sent');
    expect(sent.deliveries.map((d) => d.status)).toEqual(['sent', 'sent', 'sent']);
    expect(new Set(p.sinks.received({ notificationId: id }).map((m) => m.channel))).toEqual(
      new Set(['email', 'sms', 'slack']),
    );
  });

  it('starts one workflow and sends once for the same Idempotency-Key sent concurrently and again after completion', async () => {
    const body = { deliveries: [email('idem@example.com', 'Once')] };
    const first = await Promise.all(
      [1, 2, 3].map(() => p.post('/v1/notifications', body, { 'idempotency-key': `${p.prefix}-idem` })),
    );
    const ids = new Set(first.map(idOf));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    await p.waitForStatus(String(id), 'sent');
    const again = await p.post('/v1/notifications', body, { 'idempotency-key': `${p.prefix}-idem` });
    expect(again.status).toBe(202);
    expect(idOf(again)).toBe(id);
    expect(again.headers.get('idempotency-replay')).toBe('true');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(p.sinks.received({ notificationId: String(id) })).toHaveLength(1);
    expect(await runsOf(String(id))).toBe(1);
  });

  it('falls back to the next channel when the first fails permanently', async () => {
    p.sinks.setFaults([{ channel: 'sms', recipient: '+14155550199', fault: '4xx', status: 400 }]);
    const res = await p.post('/v1/notifications', {
      routing: 'fallback',
      deliveries: [sms('+14155550199'), email('fallback@example.com')],
    });
    const id = idOf(res);
    const sent = await p.waitForStatus(id, 'sent');
    expect(sent.deliveries.map((d) => d.status)).toEqual(['failed', 'sent']);
    expect(sent.deliveries[0]?.lastError?.permanent).toBe(true);
    expect(sent.deliveries[0]?.attempts).toBe(1);
    expect(p.sinks.received({ notificationId: id }).map((m) => m.channel)).toEqual(['email']);
  });

  it('fires a scheduled send at sendAt and not before', async () => {
    const sendAt = Date.now() + 4_000;
    const res = await p.post('/v1/notifications', {
      sendAt: new Date(sendAt).toISOString(),
      deliveries: [email('later@example.com')],
    });
    const id = idOf(res);
    await p.waitForStatus(id, 'scheduled');
    await p.waitForStatus(id, 'sent', 30_000);
    const [message] = p.sinks.received({ notificationId: id });
    expect(message?.receivedAt).toBeGreaterThanOrEqual(sendAt);
  });

  it('cancels before sendAt: nothing is sent and the status is cancelled', async () => {
    const res = await p.post('/v1/notifications', {
      sendAt: new Date(Date.now() + 60_000).toISOString(),
      deliveries: [email('never@example.com')],
    });
    const id = idOf(res);
    await p.waitForStatus(id, 'scheduled');
    const cancel = await p.post(`/v1/notifications/${id}/cancel`, {});
    expect(cancel.status).toBe(202);
    await p.waitForStatus(id, 'cancelled');
    expect(p.sinks.received({ notificationId: id })).toHaveLength(0);
  });

  it('reports failed when retries are exhausted and sends after a retry request', async () => {
    p.sinks.setFaults([{ channel: 'email', recipient: 'flaky@example.com', fault: '5xx' }]);
    const res = await p.post('/v1/notifications', { deliveries: [email('flaky@example.com')] });
    const id = idOf(res);
    const failed = await p.waitForStatus(id, 'failed');
    expect(failed.deliveries[0]?.attempts).toBe(3);
    expect(failed.deliveries[0]?.lastError?.permanent).toBe(false);
    expect(p.sinks.received({ notificationId: id })).toHaveLength(0);
    p.sinks.clearFaults();
    expect((await p.post(`/v1/notifications/${id}/retry`, {})).status).toBe(202);
    await p.waitForStatus(id, 'sent');
    expect(p.sinks.received({ notificationId: id })).toHaveLength(1);
  });

  it('makes notifications searchable by channel, status and tag without PII in the search attributes', async () => {
    const tag = `campaign-${p.prefix}`;
    const res = await p.post('/v1/notifications', { tags: [tag], deliveries: [sms('+14155550123')] });
    const id = idOf(res);
    await p.waitForStatus(id, 'sent');
    const found: string[] = [];
    await eventually(
      async () => {
        found.length = 0;
        for await (const wf of p.client.workflow.list({
          query: `NotifyStatus = 'sent' AND NotifyChannels = 'sms' AND NotifyTags = '${tag}'`,
        }))
          found.push(wf.workflowId);
        return found.length === 1;
      },
      'visibility to index the workflow',
      15_000,
    );
    expect(found).toEqual([id]);
    const description = await p.client.workflow.getHandle(id).describe();
    expect(JSON.stringify(description.searchAttributes)).not.toContain('+14155550123');
  });

  it('reports 404 for an unknown notification', async () => {
    const res = await fetch(`${p.url}/v1/notifications/ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4eff`, {
      headers: { authorization: `Bearer ${p.apiKey}` },
    });
    expect(res.status).toBe(404);
  });
});
