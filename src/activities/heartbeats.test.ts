import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ChannelSender } from '../channels/types.js';
import type { DeliverInput } from '../shared/notification.js';
import { createActivities } from './create-activities.js';

const logger = pino({ level: 'silent' });

const input: DeliverInput = {
  notificationId: 'ntf_hb',
  channel: 'sms',
  to: '+14155550123',
  content: { body: 'hi' },
  idempotencyKey: 'ntf_hb.sms',
};

/** A sender that answers after `ms` milliseconds. */
function sender(ms: number): ChannelSender<unknown, unknown> {
  return {
    send: () => new Promise((resolve) => setTimeout(() => resolve({ providerMessageId: 'm-1' }), ms)),
    close: () => Promise.resolve(),
  };
}

async function heartbeatsOf(sendMs: number, heartbeatIntervalMs: number): Promise<unknown[]> {
  const activities = createActivities({ senders: new Map([['sms', sender(sendMs)]]), logger, heartbeatIntervalMs });
  const env = new MockActivityEnvironment({ attempt: 1 });
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  const result = await env.run((i: DeliverInput) => activities.deliver(i), input);
  expect(result).toMatchObject({ providerMessageId: 'm-1', attempt: 1 });
  return beats;
}

describe('deliver activity heartbeats', () => {
  // Each heartbeat is a RecordActivityTaskHeartbeat call that the server persists: a send that ends before the
  // heartbeat interval needs none (the heartbeat timeout counts from the attempt's start).
  it('sends no heartbeat for a send that ends before the heartbeat interval', async () => {
    expect(await heartbeatsOf(5, 1_000)).toEqual([]);
  });

  it('heartbeats every interval while a send is in flight', async () => {
    const beats = await heartbeatsOf(250, 60);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats[0]).toEqual({ phase: 'sending' });
  });
});
