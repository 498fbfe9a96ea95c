import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closedPort } from './helpers/channel-test-helpers.js';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline } from './helpers/pipeline.js';

/**
 * Provider failover end to end: HTTP → gateway → real Kafka → ingest → real Temporal → the sms and email channel
 * workers with two providers each → the dev sinks (Twilio and Vonage fakes; two SMTP sinks, the first relay down).
 *
 * The tests share one channel worker per channel, so one circuit breaker per provider: they run in order, and the
 * SMS circuit test counts on the Twilio failure of the test before it.
 */
let p: Pipeline;
let downPort: number;
beforeAll(async () => {
  downPort = await closedPort();
  p = await startPipeline({
    env: {
      SMS_PROVIDERS: 'twilio,vonage',
      SMS_CIRCUIT_FAILURE_THRESHOLD: '3',
      SMS_CIRCUIT_WINDOW_MS: '600000',
      SMS_CIRCUIT_COOLDOWN_MS: '600000',
    },
    // Relay 1 is down (nothing listens there), relay 2 is the second SMTP sink.
    sinkEnv: (sinks) => ({ EMAIL_SMTP_URLS: `smtp://127.0.0.1:${downPort},smtp://127.0.0.1:${sinks.smtp2Port}` }),
  });
});
afterAll(async () => {
  await p?.close();
});
beforeEach(() => {
  p.sinks.clearFaults();
});

const sms = (to: string) => ({ channel: 'sms', to, content: { body: 'Your code is 123456' } });

async function submit(delivery: unknown): Promise<string> {
  const res = await p.post('/v1/notifications', { deliveries: [delivery] });
  expect(res.status).toBe(202);
  return String(res.body.id);
}

describe('provider failover within a channel', () => {
  it('fails a delivery whose number the first provider rejects without trying the second provider', async () => {
    p.sinks.setFaults([{ provider: 'twilio', recipient: '+1999', fault: '4xx' }]);
    const id = await submit(sms('+19995550100'));
    const failed = await p.waitForStatus(id, 'failed');
    expect(failed.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, lastError: { permanent: true } });
    expect(failed.deliveries[0]?.lastError?.message).toMatch(/HTTP 400/);
    expect(failed.deliveries[0]?.provider).toBeUndefined();
    // Vonage has no fault: had it been tried, it would have accepted and recorded the message.
    expect(p.sinks.received({ notificationId: id })).toEqual([]);
  });

  it('delivers through the second SMS provider when the first answers 503, and says so in the status', async () => {
    p.sinks.setFaults([{ provider: 'twilio', fault: '5xx' }]);
    const id = await submit(sms('+14155550101'));
    const sent = await p.waitForStatus(id, 'sent');
    const received = p.sinks.received({ notificationId: id });
    expect(received).toEqual([
      expect.objectContaining({ provider: 'vonage', idempotencyKey: `${id}.sms`, attemptNo: 2 }),
    ]);
    expect(sent.deliveries[0]).toMatchObject({
      status: 'sent',
      provider: 'vonage',
      attempts: 1, // failover happened inside one activity attempt
      providerMessageId: received[0]?.providerMessageId,
    });
  });

  it('opens the first provider’s circuit after 3 failures, so later sends go straight to the second', async () => {
    p.sinks.setFaults([{ provider: 'twilio', fault: '5xx' }]);
    // Failures 2 and 3 of Twilio (the test before had the first): each is still failed over, Twilio called first.
    for (const to of ['+14155550102', '+14155550103']) {
      const id = await submit(sms(to));
      expect((await p.waitForStatus(id, 'sent')).deliveries[0]?.provider).toBe('vonage');
      expect(p.sinks.received({ notificationId: id })[0]?.attemptNo).toBe(2);
    }
    // Circuit open: Twilio is not called at all, so Vonage's request is the first for this idempotency key.
    p.sinks.clearFaults();
    const id = await submit(sms('+14155550104'));
    const sent = await p.waitForStatus(id, 'sent');
    expect(sent.deliveries[0]?.provider).toBe('vonage');
    expect(p.sinks.received({ notificationId: id })).toEqual([
      expect.objectContaining({ provider: 'vonage', attemptNo: 1 }),
    ]);
  });

  it('delivers email through the second SMTP relay when the first is down, with the notification’s Message-ID', async () => {
    const id = await submit({ channel: 'email', to: 'ada@example.com', content: { subject: 'Hi', text: 'Hi Ada' } });
    const sent = await p.waitForStatus(id, 'sent');
    const received = p.sinks.received({ notificationId: id });
    expect(received).toEqual([expect.objectContaining({ provider: 'smtp-2', idempotencyKey: `${id}.email` })]);
    expect(sent.deliveries[0]).toMatchObject({
      status: 'sent',
      provider: `127.0.0.1:${p.sinks.smtp2Port}`,
      providerMessageId: received[0]?.providerMessageId,
    });
  });
});
