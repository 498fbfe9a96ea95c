import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { TransientDeliveryError } from '../channels/errors.js';
import { createFailoverSender } from '../channels/failover.js';
import type { ChannelSender } from '../channels/types.js';
import { createMetricsRegistry, createWorkerMetrics } from './metrics.js';

const provider = (fails: boolean): ChannelSender<string, string> => ({
  send: () =>
    fails
      ? Promise.reject(new TransientDeliveryError('HTTP 503', { code: 503 }))
      : Promise.resolve({ providerMessageId: 'm-1' }),
  close: () => Promise.resolve(),
});

/** The circuit series of a scrape, without the registry's default `component` label. */
const series = async (text: Promise<string>) =>
  (await text)
    .split('\n')
    .filter((l) => l.startsWith('notify_provider_circuit_state{'))
    .map((l) => l.replace(',component="worker"', ''));

describe('the provider circuit metric', () => {
  it("shows each provider's circuit at scrape time: 1 for its current state, 0 for the others", async () => {
    const sender = createFailoverSender(
      [
        { name: 'twilio', sender: provider(true) },
        { name: 'vonage', sender: provider(false) },
      ],
      {
        circuit: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 30_000 },
        logger: pino({ level: 'silent' }),
        now: () => 0,
      },
    );
    const registry = createMetricsRegistry('worker');
    createWorkerMetrics(registry).watchCircuits('sms', () => sender.circuits());
    const ctx = { idempotencyKey: 'ntf_1.sms', notificationId: 'ntf_1', signal: new AbortController().signal };

    expect(await series(registry.metrics())).toContain(
      'notify_provider_circuit_state{channel="sms",provider="twilio",state="closed"} 1',
    );
    // Two transient failures of twilio open its circuit; each send failed over to vonage.
    for (let i = 0; i < 2; i++) await sender.send({ to: '+15550100', content: 'hi' }, ctx);
    const open = await series(registry.metrics());
    expect(open).toEqual(
      expect.arrayContaining([
        'notify_provider_circuit_state{channel="sms",provider="twilio",state="open"} 1',
        'notify_provider_circuit_state{channel="sms",provider="twilio",state="closed"} 0',
        'notify_provider_circuit_state{channel="sms",provider="twilio",state="half-open"} 0',
        'notify_provider_circuit_state{channel="sms",provider="vonage",state="closed"} 1',
      ]),
    );
    expect(open).toHaveLength(6);
  });

  it('has no series for a worker without failover senders', async () => {
    const registry = createMetricsRegistry('worker');
    createWorkerMetrics(registry);
    expect(await series(registry.metrics())).toEqual([]);
  });
});
