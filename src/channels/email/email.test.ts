import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSinks } from '../../../dev/sinks/index.js';
import type { RunningSinks } from '../../../dev/sinks/index.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import { closedPort, sendContext, silentLogger } from '../../../test/helpers/channel-test-helpers.js';
import type { ChannelSender } from '../types.js';
import { startAiosmtpd } from '../../../test/helpers/aiosmtpd-test-server.js';
import { emailChannel } from './index.js';
import type { EmailConfig, EmailContent, EmailRecipient } from './schema.js';

const content: EmailContent = { subject: 'Your code', text: 'It is 123456.' };
let sinks: RunningSinks;
const senders: ChannelSender<EmailRecipient, EmailContent>[] = [];

function sender(settings: Record<string, unknown> = {}): ChannelSender<EmailRecipient, EmailContent> {
  const config: EmailConfig = emailChannel.configSchema.parse({ port: String(sinks.smtpPort), ...settings });
  const s = emailChannel.createSender(config, { logger: silentLogger });
  senders.push(s);
  return s;
}

beforeAll(async () => {
  sinks = await startSinks({ host: '127.0.0.1', httpPort: 0, smtpPort: 0, webhookSecret: 'whsec_dGVzdA==' });
});
afterEach(() => sinks.clearFaults());
afterAll(async () => {
  await Promise.all(senders.map((s) => s.close()));
  await sinks.close();
});

describe('email channel schemas', () => {
  it('accepts one address or a list of up to 50', () => {
    expect(emailChannel.recipientSchema.safeParse('ada@example.com').success).toBe(true);
    expect(emailChannel.recipientSchema.safeParse(['ada@example.com', 'bob@example.org']).success).toBe(true);
    const tooMany = Array.from({ length: 51 }, (_, i) => `u${i}@example.com`);
    expect(emailChannel.recipientSchema.safeParse(tooMany).success).toBe(false);
    expect(emailChannel.recipientSchema.safeParse('not-an-address').success).toBe(false);
  });

  it('rejects header injection in the subject, custom headers and sender names', () => {
    const bad = [
      { subject: 'Hi\r\nBcc: victim@example.com', text: 'x' },
      { subject: 'Hi', text: 'x', headers: { 'X-Campaign': 'a\nBcc: victim@example.com' } },
      { subject: 'Hi', text: 'x', headers: { 'Message-ID': '<spoof@example.com>' } },
      { subject: 'Hi', text: 'x', from: 'Evil\r\nBcc: x@example.com <evil@example.com>' },
    ];
    for (const c of bad) expect(emailChannel.contentSchema.safeParse(c).success, JSON.stringify(c)).toBe(false);
    expect(
      emailChannel.contentSchema.safeParse({
        subject: 'Hi',
        text: 'x',
        from: 'Ada <ada@example.com>',
        headers: { 'List-Unsubscribe': '<mailto:u@example.com>' },
      }).success,
    ).toBe(true);
  });

  it('defaults to the local SMTP sink and reads every option from strings', () => {
    const defaults = emailChannel.configSchema.parse({});
    expect(defaults).toMatchObject({ host: '127.0.0.1', port: 2525, secure: false, requireTls: false, pool: true });
    const custom = emailChannel.configSchema.parse({
      host: 'smtp.example.com',
      port: '587',
      requireTls: 'true',
      user: 'u',
      pass: 'p',
      maxConnections: '3',
    });
    expect(custom).toMatchObject({ port: 587, requireTls: true, user: 'u', pass: 'p', maxConnections: 3 });
    expect(emailChannel.configSchema.safeParse({ secure: 'maybe' }).success).toBe(false);
  });
});

describe('email sender against the SMTP sink', () => {
  it('delivers with the idempotency Message-ID and X-Notification-Id, returning the server queue id', async () => {
    const ctx = sendContext('email');
    const result = await sender().send(
      {
        to: ['ada@example.com', 'bob@example.org'],
        content: { ...content, html: '<p>It is <b>123456</b>.</p>', headers: { 'X-Campaign': 'otp' } },
      },
      ctx,
    );
    const [message] = sinks.received({ notificationId: ctx.notificationId });
    expect(message).toBeDefined();
    expect(result.providerMessageId).toBe(message?.providerMessageId);
    expect(message?.idempotencyKey).toBe(ctx.idempotencyKey);
    expect(message?.to).toEqual(['ada@example.com', 'bob@example.org']);
    expect(message?.summary).toBe('Your code');
    expect(message?.details).toMatchObject({
      messageId: `<${ctx.idempotencyKey}@notify.local>`,
      text: 'It is 123456.',
      html: '<p>It is <b>123456</b>.</p>',
    });
    expect((message?.details.headers as Record<string, string>)['x-campaign']).toBe('otp');
  });

  it('logs in when credentials are configured and uses a configured Message-ID domain', async () => {
    const ctx = sendContext('email');
    await sender({ user: 'mailer', pass: 'secret', pool: 'false', messageIdDomain: 'mail.example.com' }).send(
      { to: 'ada@example.com', content },
      ctx,
    );
    const [message] = sinks.received({ notificationId: ctx.notificationId });
    expect(message?.details).toMatchObject({ user: 'mailer', messageId: `<${ctx.idempotencyKey}@mail.example.com>` });
  });

  it('treats an SMTP 550 as permanent', async () => {
    sinks.setFaults([{ channel: 'email', recipient: 'gone@', fault: 'smtp550' }]);
    const error = await sender()
      .send({ to: 'gone@example.com', content }, sendContext('email'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ code: 550 });
  });

  it('treats an SMTP 451 as transient', async () => {
    sinks.setFaults([{ channel: 'email', fault: 'smtp451' }]);
    const error = await sender()
      .send({ to: 'ada@example.com', content }, sendContext('email'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error).toMatchObject({ code: 451 });
  });

  it('retries a 421 and then succeeds on the second attempt', async () => {
    sinks.setFaults([{ channel: 'email', fault: '5xx', failFirst: 1 }]);
    const ctx = sendContext('email');
    const s = sender();
    await expect(s.send({ to: 'ada@example.com', content }, ctx)).rejects.toBeInstanceOf(TransientDeliveryError);
    const result = await s.send({ to: 'ada@example.com', content }, ctx);
    const messages = sinks.received({ idempotencyKey: ctx.idempotencyKey });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ attemptNo: 2, providerMessageId: result.providerMessageId });
  });

  it('times out against a server that never answers', async () => {
    sinks.setFaults([{ channel: 'email', fault: 'timeout' }]);
    const error = await sender({ timeoutMs: '400', pool: 'false' })
      .send({ to: 'ada@example.com', content }, sendContext('email'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/timed out after 400 ms/);
  });

  it('stops when the caller aborts', async () => {
    sinks.setFaults([{ channel: 'email', fault: 'timeout' }]);
    const controller = new AbortController();
    const pending = sender({ timeoutMs: '30000', pool: 'false' }).send(
      { to: 'ada@example.com', content },
      sendContext('email', { signal: controller.signal }),
    );
    setTimeout(() => controller.abort(new Error('activity cancelled')), 100);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/aborted by the caller \(activity cancelled\)/);
  });

  it('reports a lost final reply as transient; the retry creates exactly one visible duplicate', async () => {
    sinks.setFaults([{ channel: 'email', fault: 'accept-then-drop', failFirst: 1 }]);
    const ctx = sendContext('email');
    const s = sender({ pool: 'false' });
    await expect(s.send({ to: 'ada@example.com', content }, ctx)).rejects.toBeInstanceOf(TransientDeliveryError);
    const result = await s.send({ to: 'ada@example.com', content }, ctx);
    const copies = sinks.received({ idempotencyKey: ctx.idempotencyKey });
    expect(copies.map((m) => m.attemptNo)).toEqual([1, 2]);
    expect(new Set(copies.map((m) => m.providerMessageId)).size).toBe(2);
    expect(copies[1]?.providerMessageId).toBe(result.providerMessageId);
  });

  it('treats a refused connection as transient', async () => {
    const error = await sender({ port: String(await closedPort()), pool: 'false' })
      .send({ to: 'ada@example.com', content }, sendContext('email'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
  });

  it('fails permanently when STARTTLS is required but not offered', async () => {
    const error = await sender({ requireTls: 'true', pool: 'false' })
      .send({ to: 'ada@example.com', content }, sendContext('email'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(/EMAIL_REQUIRE_TLS/);
  });
});

describe('email sender against an independent SMTP server (aiosmtpd)', () => {
  it('delivers a message that aiosmtpd receives intact', async () => {
    const server = await startAiosmtpd();
    try {
      const ctx = sendContext('email');
      const s = sender({ host: server.host, port: String(server.port), pool: 'false' });
      const result = await s.send(
        { to: 'ada@example.com', content: { subject: 'Hello from notify', text: 'Plain body line' } },
        ctx,
      );
      // aiosmtpd answers a bare "250 OK", so the provider id falls back to the Message-ID.
      expect(result.providerMessageId).toBe(`<${ctx.idempotencyKey}@notify.local>`);
      await server.waitForOutput('Plain body line', 10_000);
      expect(server.output()).toContain('Subject: Hello from notify');
      expect(server.output()).toContain(`Message-ID: <${ctx.idempotencyKey}@notify.local>`);
      expect(server.output()).toMatch(new RegExp(`X-Notification-Id: ${ctx.notificationId}`, 'i'));
    } finally {
      await server.stop();
    }
  });
});
