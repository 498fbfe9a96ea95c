import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../helpers/pipeline.js';
import type { Pipeline } from '../helpers/pipeline.js';

/**
 * Scenario 6: provider failures through the whole pipeline (HTTP → Kafka → ingest → Temporal → SMS sender → sink).
 * A permanent rejection is not retried; a provider that stays down longer than the retry budget (3 attempts here)
 * leaves the notification failed and awaiting a retry, and `POST /retry` re-drives it to sent.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p?.close();
});

const sms = (to: string) => ({ deliveries: [{ channel: 'sms', to, content: { body: 'scenario 6' } }] });

describe('provider failures', () => {
  it('fails a permanently rejected send after exactly one attempt, marked non-retryable', async () => {
    p.sinks.setFaults([{ channel: 'sms', recipient: '+14155550601', fault: '4xx', status: 400 }]);
    const res = await p.post('/v1/notifications', sms('+14155550601'));
    expect(res.status).toBe(202);
    const id = String(res.body.id);
    const failed = await p.waitForStatus(id, 'failed');
    expect(failed.deliveries).toHaveLength(1);
    expect(failed.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, lastError: { permanent: true } });
    expect(p.sinks.received({ notificationId: id })).toHaveLength(0);
  });

  it('waits for a retry after the retry budget is spent while the provider is down, and POST /retry sends it', async () => {
    p.sinks.setFaults([{ channel: 'sms', recipient: '+14155550602', fault: '5xx', status: 503 }]);
    const res = await p.post('/v1/notifications', sms('+14155550602'));
    const id = String(res.body.id);
    const failed = await p.waitForStatus(id, 'failed');
    expect(failed.deliveries[0]).toMatchObject({ status: 'failed', attempts: 3, lastError: { permanent: false } });
    expect(typeof failed.awaitingRetryUntil).toBe('string');
    expect(Date.parse(String(failed.awaitingRetryUntil))).toBeGreaterThan(Date.now());

    // The provider is back.
    p.sinks.clearFaults();
    const retry = await p.post(`/v1/notifications/${id}/retry`, {});
    expect(retry.status).toBe(202);
    const sent = await p.waitForStatus(id, 'sent');
    expect(sent.deliveries[0]).toMatchObject({ status: 'sent', attempts: 4 });
    expect(sent.awaitingRetryUntil).toBeUndefined();
    const received = p.sinks.received({ notificationId: id });
    expect(received).toHaveLength(1);
    expect(sent.deliveries[0]?.providerMessageId).toBe(received[0]?.providerMessageId);
  });
});
