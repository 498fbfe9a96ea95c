import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PermanentDeliveryError, TransientDeliveryError } from '../channels/errors.js';
import { createFailoverSender } from '../channels/failover.js';
import type { ChannelSender } from '../channels/types.js';
import type { DeliverInput } from '../shared/notification.js';
import { createActivities } from './create-activities.js';
import type { ActivityDeps } from './create-activities.js';

const logger = pino({ level: 'silent' });
const circuit = { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000 };

function provider(outcome: 'ok' | Error): ChannelSender<unknown, unknown> {
  return {
    send: () => (outcome === 'ok' ? Promise.resolve({ providerMessageId: 'm-1' }) : Promise.reject(outcome)),
    close: () => Promise.resolve(),
  };
}

const input: DeliverInput = {
  notificationId: 'ntf_1',
  channel: 'sms',
  to: '+14155550123',
  content: { body: 'hi' },
  idempotencyKey: 'ntf_1.sms',
};

async function run(sender: ChannelSender<unknown, unknown>, recipients?: ActivityDeps['recipients']) {
  const outcomes: Array<{ provider: string; result: string }> = [];
  const activities = createActivities({
    senders: new Map([['sms', sender]]),
    logger,
    onOutcome: ({ provider, result }) => outcomes.push({ provider, result }),
    recipients,
  });
  const result = await new MockActivityEnvironment({ attempt: 1 })
    .run((i: DeliverInput) => activities.deliver(i), input)
    .catch((e: unknown) => e);
  return { outcomes, result };
}

describe('deliver activity with several providers', () => {
  it('returns the provider that sent and counts one outcome per provider call', async () => {
    const sender = createFailoverSender(
      [
        { name: 'twilio', sender: provider(new TransientDeliveryError('HTTP 503', { code: 503 })) },
        { name: 'vonage', sender: provider('ok') },
      ],
      { circuit, logger },
    );
    const { outcomes, result } = await run(sender);
    expect(result).toMatchObject({ providerMessageId: 'm-1', provider: 'vonage', attempt: 1 });
    expect(outcomes).toEqual([
      { provider: 'twilio', result: 'transient' },
      { provider: 'vonage', result: 'sent' },
    ]);
  });

  it('labels a sender without providers with the channel name', async () => {
    const { outcomes } = await run(provider('ok'));
    expect(outcomes).toEqual([{ provider: 'sms', result: 'sent' }]);
  });

  it('does not suppress the address when every provider refused for its own reasons', async () => {
    const suppressions: unknown[] = [];
    const recipients: ActivityDeps['recipients'] = {
      resolve: () => Promise.resolve({ kind: 'send', to: input.to }),
      addSuppression: (_owner: string, s: unknown) => {
        suppressions.push(s);
        return Promise.resolve();
      },
    } as unknown as ActivityDeps['recipients'];
    // The message says 21211 (what the SMS address rule looks for), but the fault is the provider's.
    const refused = new PermanentDeliveryError('HTTP 401 (21211)', { code: 401, fault: 'provider' });
    const sender = createFailoverSender(
      [
        { name: 'twilio', sender: provider(refused) },
        { name: 'vonage', sender: provider(refused) },
      ],
      { circuit, logger },
    );
    const { result } = await run(sender, recipients);
    expect(result).toBeInstanceOf(Error);
    expect(suppressions).toEqual([]);
  });
});
