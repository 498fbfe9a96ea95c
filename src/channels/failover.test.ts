import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { PermanentDeliveryError, TransientDeliveryError } from './errors.js';
import { createFailoverSender, shouldFailOver } from './failover.js';
import type { ChannelSender, ProviderAttempt, SendContext } from './types.js';

const logger = pino({ level: 'silent' });
const circuit = { failureThreshold: 2, windowMs: 60_000, cooldownMs: 30_000 };

/** A provider that answers from a script: each call takes the next outcome (the last one repeats). */
function scripted(outcomes: Array<'ok' | Error>) {
  const calls: string[] = [];
  let i = 0;
  const sender: ChannelSender<string, string> = {
    send(_message, ctx) {
      calls.push(ctx.idempotencyKey);
      const outcome = outcomes[Math.min(i++, outcomes.length - 1)];
      if (outcome instanceof Error) return Promise.reject(outcome);
      return Promise.resolve({ providerMessageId: `id-${calls.length}` });
    },
    close: () => Promise.resolve(),
  };
  return { sender, calls };
}

function ctx(attempts: ProviderAttempt[] = [], signal = new AbortController().signal): SendContext {
  return { idempotencyKey: 'ntf_1.sms', notificationId: 'ntf_1', signal, onProviderAttempt: (a) => attempts.push(a) };
}

const unavailable = () => new TransientDeliveryError('HTTP 503', { code: 503 });
const badNumber = () => new PermanentDeliveryError('HTTP 400: not a valid phone number', { code: 400 });
const badCredentials = () => new PermanentDeliveryError('HTTP 401', { code: 401, fault: 'provider' });

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('failover classification', () => {
  it('fails over on transient errors, unexpected errors and permanent provider errors, not on request errors', () => {
    expect(shouldFailOver(unavailable())).toBe(true);
    expect(shouldFailOver(new Error('bug'))).toBe(true);
    expect(shouldFailOver(badCredentials())).toBe(true);
    expect(shouldFailOver(badNumber())).toBe(false);
  });
});

describe('failover sender', () => {
  it('sends through the first provider while it works and reports which provider sent', async () => {
    const a = scripted(['ok']);
    const b = scripted(['ok']);
    const attempts: ProviderAttempt[] = [];
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: b.sender },
      ],
      { circuit, logger },
    );
    await expect(s.send({ to: '+1', content: 'hi' }, ctx(attempts))).resolves.toEqual({
      providerMessageId: 'id-1',
      provider: 'a',
    });
    expect(b.calls).toEqual([]);
    expect(attempts.map((x) => [x.provider, x.result])).toEqual([['a', 'sent']]);
  });

  it('tries the next provider in the same attempt after a transient failure, with the same idempotency key', async () => {
    const a = scripted([unavailable()]);
    const b = scripted(['ok']);
    const attempts: ProviderAttempt[] = [];
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: b.sender },
      ],
      { circuit, logger },
    );
    const result = await s.send({ to: '+1', content: 'hi' }, ctx(attempts));
    expect(result.provider).toBe('b');
    expect(a.calls).toEqual(['ntf_1.sms']);
    expect(b.calls).toEqual(['ntf_1.sms']);
    expect(attempts.map((x) => [x.provider, x.result])).toEqual([
      ['a', 'transient'],
      ['b', 'sent'],
    ]);
  });

  it('fails over when a provider refuses its credentials', async () => {
    const a = scripted([badCredentials()]);
    const b = scripted(['ok']);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: b.sender },
      ],
      { circuit, logger },
    );
    await expect(s.send({ to: '+1', content: 'hi' }, ctx())).resolves.toMatchObject({ provider: 'b' });
  });

  it('does not fail over on a permanent recipient error: the delivery fails permanently without the next provider', async () => {
    const a = scripted([badNumber()]);
    const b = scripted(['ok']);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: b.sender },
      ],
      { circuit, logger },
    );
    const err = await s.send({ to: '+1', content: 'hi' }, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentDeliveryError);
    expect(err).toMatchObject({ fault: 'request', provider: 'a', code: 400 });
    expect(b.calls).toEqual([]);
  });

  it('does not count recipient errors against the provider circuit', async () => {
    const a = scripted([badNumber()]);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: scripted(['ok']).sender },
      ],
      {
        circuit,
        logger,
      },
    );
    for (let i = 0; i < 3; i++) await s.send({ to: '+1', content: 'hi' }, ctx()).catch(() => undefined);
    expect(s.circuits()).toEqual({ a: 'closed', b: 'closed' });
  });

  it('opens the circuit after N consecutive failures so later sends go straight to the next provider', async () => {
    const c = clock();
    const a = scripted([unavailable()]);
    const b = scripted(['ok']);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: b.sender },
      ],
      {
        circuit,
        logger,
        now: c.now,
      },
    );
    await s.send({ to: '+1', content: 'hi' }, ctx());
    await s.send({ to: '+1', content: 'hi' }, ctx());
    expect(s.circuits().a).toBe('open');
    expect(a.calls).toHaveLength(2);
    await expect(s.send({ to: '+1', content: 'hi' }, ctx())).resolves.toMatchObject({ provider: 'b' });
    expect(a.calls).toHaveLength(2); // skipped
    expect(b.calls).toHaveLength(3);
    c.advance(30_000); // cool-down over: one probe goes to a again
    await s.send({ to: '+1', content: 'hi' }, ctx());
    expect(a.calls).toHaveLength(3);
    expect(s.circuits().a).toBe('open');
  });

  it('closes the circuit again when the half-open probe succeeds', async () => {
    const c = clock();
    const a = scripted([unavailable(), unavailable(), 'ok']);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: scripted(['ok']).sender },
      ],
      {
        circuit,
        logger,
        now: c.now,
      },
    );
    await s.send({ to: '+1', content: 'hi' }, ctx());
    await s.send({ to: '+1', content: 'hi' }, ctx());
    c.advance(30_000);
    await expect(s.send({ to: '+1', content: 'hi' }, ctx())).resolves.toMatchObject({ provider: 'a' });
    expect(s.circuits().a).toBe('closed');
  });

  it('fails the attempt transiently when every provider fails transiently, keeping the smallest Retry-After', async () => {
    const a = scripted([new TransientDeliveryError('429', { code: 429, retryAfterMs: 7_000 })]);
    const b = scripted([new TransientDeliveryError('429', { code: 429, retryAfterMs: 2_000 })]);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: b.sender },
      ],
      { circuit, logger },
    );
    const err = await s.send({ to: '+1', content: 'hi' }, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientDeliveryError);
    expect(err).toMatchObject({ retryAfterMs: 2_000, provider: 'b' });
    expect((err as Error).message).toMatch(/every provider failed: a: 429; b: 429/);
  });

  it('fails permanently when every provider refuses permanently for its own reasons', async () => {
    const s = createFailoverSender(
      [
        { name: 'a', sender: scripted([badCredentials()]).sender },
        { name: 'b', sender: scripted([badCredentials()]).sender },
      ],
      { circuit, logger },
    );
    const err = await s.send({ to: '+1', content: 'hi' }, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentDeliveryError);
    expect(err).toMatchObject({ fault: 'provider' });
  });

  it('makes no call while every circuit is open and asks to be retried when the first probe is due', async () => {
    const c = clock();
    const a = scripted([unavailable()]);
    const b = scripted([unavailable()]);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a.sender },
        { name: 'b', sender: b.sender },
      ],
      {
        circuit,
        logger,
        now: c.now,
      },
    );
    await s.send({ to: '+1', content: 'hi' }, ctx()).catch(() => undefined);
    await s.send({ to: '+1', content: 'hi' }, ctx()).catch(() => undefined);
    c.advance(10_000);
    const err = await s.send({ to: '+1', content: 'hi' }, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientDeliveryError);
    expect(err).toMatchObject({ retryAfterMs: 20_000 });
    expect(a.calls).toHaveLength(2);
    expect(b.calls).toHaveLength(2);
  });

  it('does not try the next provider once the caller aborted', async () => {
    const controller = new AbortController();
    const a: ChannelSender<string, string> = {
      send: () => {
        controller.abort(new Error('shutting down'));
        return Promise.reject(new TransientDeliveryError('aborted by the caller (shutting down)'));
      },
      close: () => Promise.resolve(),
    };
    const b = scripted(['ok']);
    const s = createFailoverSender(
      [
        { name: 'a', sender: a },
        { name: 'b', sender: b.sender },
      ],
      { circuit, logger },
    );
    await expect(s.send({ to: '+1', content: 'hi' }, ctx([], controller.signal))).rejects.toBeInstanceOf(
      TransientDeliveryError,
    );
    expect(b.calls).toEqual([]);
    expect(s.circuits().a).toBe('closed');
  });

  it('passes a single provider through without a breaker', async () => {
    const a = scripted([unavailable()]);
    const s = createFailoverSender([{ name: 'a', sender: a.sender }], { circuit, logger });
    for (let i = 0; i < 4; i++)
      await expect(s.send({ to: '+1', content: 'hi' }, ctx())).rejects.toMatchObject({ code: 503, provider: 'a' });
    expect(a.calls).toHaveLength(4);
  });
});
