import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSinks } from '../../../dev/sinks/index.js';
import type { RunningSinks } from '../../../dev/sinks/index.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import { closedPort, sendContext, silentLogger } from '../../../test/helpers/channel-test-helpers.js';
import type { ChannelSender } from '../types.js';
import { smsChannel } from './index.js';
import type { SmsContent, SmsRecipient } from './schema.js';

const TOKEN = 'test-auth-token';
const VONAGE_SECRET = 'test-vonage-secret';
let sinks: RunningSinks;

function sender(settings: Record<string, unknown> = {}): ChannelSender<SmsRecipient, SmsContent> {
  return smsChannel.createSender(
    smsChannel.configSchema.parse({ baseUrl: sinks.httpUrl, authToken: TOKEN, ...settings }),
    { logger: silentLogger },
  );
}

beforeAll(async () => {
  sinks = await startSinks({
    host: '127.0.0.1',
    httpPort: 0,
    smtpPort: 0,
    webhookSecret: 'whsec_dGVzdA==',
    twilioAuthToken: TOKEN,
    vonageApiSecret: VONAGE_SECRET,
  });
});
afterEach(() => sinks.clearFaults());
afterAll(() => sinks.close());

describe('sms channel schemas', () => {
  it('accepts E.164 numbers only and bodies of 1 to 1600 characters', () => {
    expect(smsChannel.recipientSchema.safeParse('+14155550123').success).toBe(true);
    for (const bad of ['4155550123', '+1 415 555 0123', '+0123456', '+1234567890123456'])
      expect(smsChannel.recipientSchema.safeParse(bad).success, bad).toBe(false);
    expect(smsChannel.contentSchema.safeParse({ body: '' }).success).toBe(false);
    expect(smsChannel.contentSchema.safeParse({ body: 'x'.repeat(1601) }).success).toBe(false);
    expect(smsChannel.contentSchema.safeParse({ body: 'x'.repeat(1600) }).success).toBe(true);
  });

  it('defaults to the local sink and validates SIDs with a message naming the format', () => {
    expect(smsChannel.configSchema.parse({})).toMatchObject({
      baseUrl: 'http://127.0.0.1:4010',
      from: '+15005550006',
      timeoutMs: 10_000,
    });
    const result = smsChannel.configSchema.safeParse({ accountSid: 'nope' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/AC followed by 32 hex digits/);
  });
});

describe('sms sender against the Twilio-compatible sink', () => {
  it('sends To/From/Body with idempotency headers and returns the message sid', async () => {
    const ctx = sendContext('sms');
    const result = await sender().send({ to: '+14155550123', content: { body: 'Your code is 123456' } }, ctx);
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const [message] = sinks.received({ notificationId: ctx.notificationId });
    expect(message).toMatchObject({
      channel: 'sms',
      idempotencyKey: ctx.idempotencyKey,
      providerMessageId: result.providerMessageId,
      to: '+14155550123',
      summary: 'Your code is 123456',
      attemptNo: 1,
    });
    expect(message?.details).toMatchObject({ from: '+15005550006', body: 'Your code is 123456' });
  });

  it('uses the Messaging Service instead of From when configured', async () => {
    const ctx = sendContext('sms');
    const messagingServiceSid = `MG${'a'.repeat(32)}`;
    await sender({ messagingServiceSid }).send({ to: '+14155550123', content: { body: 'hi' } }, ctx);
    expect(sinks.received({ notificationId: ctx.notificationId })[0]?.details).toMatchObject({
      messagingServiceSid,
      from: null,
    });
  });

  it('fails permanently when the provider rejects the credentials', async () => {
    const error = await sender({ authToken: 'wrong' })
      .send({ to: '+14155550123', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ code: 401 });
    expect((error as Error).message).toMatch(/Authenticate/);
  });

  it('fails permanently on a 400 for an invalid recipient', async () => {
    sinks.setFaults([{ channel: 'sms', recipient: '+1999', fault: '4xx' }]);
    const error = await sender()
      .send({ to: '+19995550100', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ code: 400 });
  });

  it('retries a 503 and then succeeds', async () => {
    sinks.setFaults([{ channel: 'sms', fault: '5xx', failFirst: 1 }]);
    const ctx = sendContext('sms');
    const s = sender();
    const first = await s.send({ to: '+14155550123', content: { body: 'hi' } }, ctx).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TransientDeliveryError);
    expect(first).toMatchObject({ code: 503 });
    const result = await s.send({ to: '+14155550123', content: { body: 'hi' } }, ctx);
    expect(sinks.received({ idempotencyKey: ctx.idempotencyKey })).toEqual([
      expect.objectContaining({ attemptNo: 2, providerMessageId: result.providerMessageId }),
    ]);
  });

  it('passes a 429 Retry-After on as retryAfterMs', async () => {
    sinks.setFaults([{ channel: 'sms', fault: '429', retryAfterSeconds: 7 }]);
    const error = await sender()
      .send({ to: '+14155550123', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error).toMatchObject({ code: 429, retryAfterMs: 7000 });
  });

  it('times out against a provider that never answers', async () => {
    sinks.setFaults([{ channel: 'sms', fault: 'timeout' }]);
    const error = await sender({ timeoutMs: '300' })
      .send({ to: '+14155550123', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/timed out after 300 ms/);
  });

  it('stops when the caller aborts', async () => {
    sinks.setFaults([{ channel: 'sms', fault: 'timeout' }]);
    const controller = new AbortController();
    const pending = sender({ timeoutMs: '30000' }).send(
      { to: '+14155550123', content: { body: 'hi' } },
      sendContext('sms', { signal: controller.signal }),
    );
    setTimeout(() => controller.abort(new Error('worker shutting down')), 100);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/aborted by the caller \(worker shutting down\)/);
  });

  it('reports an accepted-then-dropped request as transient, leaving one traceable duplicate after the retry', async () => {
    sinks.setFaults([{ channel: 'sms', fault: 'accept-then-drop', failFirst: 1 }]);
    const ctx = sendContext('sms');
    const s = sender();
    await expect(s.send({ to: '+14155550123', content: { body: 'hi' } }, ctx)).rejects.toBeInstanceOf(
      TransientDeliveryError,
    );
    await s.send({ to: '+14155550123', content: { body: 'hi' } }, ctx);
    const copies = sinks.received({ idempotencyKey: ctx.idempotencyKey });
    expect(copies).toHaveLength(2);
    expect(copies[0]?.providerMessageId).not.toBe(copies[1]?.providerMessageId);
  });

  it('treats an unreachable provider as transient', async () => {
    const error = await sender({ baseUrl: `http://127.0.0.1:${await closedPort()}` })
      .send({ to: '+14155550123', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

describe('sms providers: Vonage through @vonage/server-sdk against the Vonage fake, and failover', () => {
  const vonage = (settings: Record<string, unknown> = {}) =>
    sender({ providers: 'vonage', vonageApiUrl: sinks.httpUrl, vonageApiSecret: VONAGE_SECRET, ...settings });
  const both = (settings: Record<string, unknown> = {}) =>
    sender({ providers: 'twilio,vonage', vonageApiUrl: sinks.httpUrl, vonageApiSecret: VONAGE_SECRET, ...settings });

  it('sends through Vonage with client_ref = the idempotency key and returns the message_uuid', async () => {
    const ctx = sendContext('sms');
    const result = await vonage().send({ to: '+14155550123', content: { body: 'Your code is 654321' } }, ctx);
    expect(result.provider).toBe('vonage');
    expect(result.providerMessageId).toMatch(/^[0-9a-f-]{36}$/);
    const [message] = sinks.received({ notificationId: ctx.notificationId });
    expect(message).toMatchObject({
      provider: 'vonage',
      idempotencyKey: ctx.idempotencyKey,
      providerMessageId: result.providerMessageId,
      to: '+14155550123',
      summary: 'Your code is 654321',
    });
    expect(message?.details).toMatchObject({ from: '15005550006', clientRef: ctx.idempotencyKey });
  });

  it('classifies Vonage answers: 422 invalid number is a request error, 401 a provider error, 429 transient with Retry-After', async () => {
    sinks.setFaults([{ provider: 'vonage', recipient: '+1999', fault: '4xx', status: 422 }]);
    const invalid = await vonage()
      .send({ to: '+19995550100', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(PermanentDeliveryError);
    expect(invalid).toMatchObject({ code: 422, fault: 'request' });
    expect((invalid as Error).message).toMatch(/not a valid phone number/);

    const refused = await vonage({ vonageApiSecret: 'wrong' })
      .send({ to: '+14155550123', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentDeliveryError);
    expect(refused).toMatchObject({ code: 401, fault: 'provider' });

    sinks.setFaults([{ provider: 'vonage', fault: '429', retryAfterSeconds: 3 }]);
    const limited = await vonage()
      .send({ to: '+14155550123', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(TransientDeliveryError);
    expect(limited).toMatchObject({ code: 429, retryAfterMs: 3000 });
  });

  it('times out against a Vonage API that never answers', async () => {
    sinks.setFaults([{ provider: 'vonage', fault: 'timeout' }]);
    const error = await vonage({ timeoutMs: '300' })
      .send({ to: '+14155550123', content: { body: 'hi' } }, sendContext('sms'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/timed out/);
  });

  it('fails over from Twilio to Vonage on a 503, within the same attempt and with the same idempotency key', async () => {
    sinks.setFaults([{ provider: 'twilio', fault: '5xx' }]);
    const ctx = sendContext('sms');
    const result = await both().send({ to: '+14155550123', content: { body: 'hi' } }, ctx);
    expect(result.provider).toBe('vonage');
    expect(sinks.received({ idempotencyKey: ctx.idempotencyKey })).toEqual([
      expect.objectContaining({ provider: 'vonage', attemptNo: 2 }),
    ]);
  });

  it('fails over when Twilio refuses the credentials (a provider error)', async () => {
    const ctx = sendContext('sms');
    const result = await both({ authToken: 'wrong' }).send({ to: '+14155550123', content: { body: 'hi' } }, ctx);
    expect(result.provider).toBe('vonage');
  });

  it('does not fail over when Twilio rejects the number (a recipient error)', async () => {
    sinks.setFaults([{ provider: 'twilio', recipient: '+1999', fault: '4xx' }]);
    const ctx = sendContext('sms');
    const error = await both()
      .send({ to: '+19995550100', content: { body: 'hi' } }, ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ code: 400, fault: 'request', provider: 'twilio' });
    expect(sinks.received({ idempotencyKey: ctx.idempotencyKey })).toEqual([]);
  });

  it('refuses an unknown or repeated provider name, naming the accepted ones', () => {
    const unknown = smsChannel.configSchema.safeParse({ providers: 'twilio,plivo' });
    expect(unknown.error?.issues[0]?.message).toMatch(/one of twilio, vonage/);
    const twice = smsChannel.configSchema.safeParse({ providers: 'twilio,twilio' });
    expect(twice.error?.issues[0]?.message).toMatch(/listed twice/);
    expect(smsChannel.configSchema.parse({}).providers).toEqual(['twilio']);
  });
});
