import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSinks } from '../../../dev/sinks/index.js';
import type { RunningSinks } from '../../../dev/sinks/index.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import { closedPort, sendContext, silentLogger } from '../../../test/helpers/channel-test-helpers.js';
import type { ChannelSender } from '../types.js';
import { webhookChannel } from './index.js';
import type { WebhookContent, WebhookRecipient } from './schema.js';

const SECRET = 'whsec_d2ViaG9vay10ZXN0LXNlY3JldC0xMjM=';
let sinks: RunningSinks;

/** A sender allowed to reach this machine (the sink and the receivers below listen on loopback), unless overridden. */
function sender(settings: Record<string, unknown> = {}): ChannelSender<WebhookRecipient, WebhookContent> {
  return webhookChannel.createSender(
    webhookChannel.configSchema.parse({ signingSecret: SECRET, allowedNetworks: '127.0.0.0/8,::1', ...settings }),
    { logger: silentLogger },
  );
}
/** A sender with the default network policy: internal targets refused. */
function defaultSender(settings: Record<string, unknown> = {}): ChannelSender<WebhookRecipient, WebhookContent> {
  return webhookChannel.createSender(webhookChannel.configSchema.parse({ signingSecret: SECRET, ...settings }), {
    logger: silentLogger,
  });
}
const url = () => `${sinks.httpUrl}/webhook/orders`;

beforeAll(async () => {
  sinks = await startSinks({ host: '127.0.0.1', httpPort: 0, smtpPort: 0, webhookSecret: SECRET });
});
afterEach(() => sinks.clearFaults());
afterAll(() => sinks.close());

describe('webhook channel schemas', () => {
  it('requires an http(s) URL and a JSON object as content', () => {
    expect(
      webhookChannel.recipientSchema.safeParse({ url: 'https://example.com/hook', recipientId: 'user-1' }).success,
    ).toBe(true);
    expect(webhookChannel.recipientSchema.safeParse({ url: 'file:///etc/passwd' }).success).toBe(false);
    expect(webhookChannel.contentSchema.safeParse({ event: 'order.shipped' }).success).toBe(true);
    expect(webhookChannel.contentSchema.safeParse('text').success).toBe(false);
    expect(webhookChannel.configSchema.safeParse({ signingSecret: 'short' }).success).toBe(false);
  });
});

describe('webhook sender against the signature-checking sink', () => {
  it('refuses, permanently and without a request, a host outside WEBHOOK_ALLOWED_HOSTS', async () => {
    const ctx = sendContext('webhook');
    const restricted = sender({ allowedHosts: 'hooks.example.com,*.partner.example' });
    await expect(restricted.send({ to: { url: url() }, content: { event: 'x' } }, ctx)).rejects.toBeInstanceOf(
      PermanentDeliveryError,
    );
    expect(sinks.received({ notificationId: ctx.notificationId })).toHaveLength(0);
    const allowed = await sender({ allowedHosts: '127.0.0.1' }).send(
      { to: { url: url() }, content: { event: 'x' } },
      sendContext('webhook'),
    );
    expect(allowed.providerMessageId).toBeTruthy();
  });

  it('posts the signed payload with webhook-id = idempotency key and returns the receiver id', async () => {
    const ctx = sendContext('webhook', { metadata: { tenant: 'acme' } });
    const result = await sender().send(
      { to: { url: url(), recipientId: 'user-42' }, content: { event: 'order.shipped', orderId: 7 } },
      ctx,
    );
    const [received] = sinks.received({ notificationId: ctx.notificationId });
    expect(received).toMatchObject({
      channel: 'webhook',
      idempotencyKey: ctx.idempotencyKey,
      providerMessageId: result.providerMessageId,
      to: '/webhook/orders',
    });
    expect(result.providerMessageId).toMatch(/^wh_/);
    expect(received?.details).toMatchObject({
      webhookId: ctx.idempotencyKey,
      payload: {
        id: ctx.idempotencyKey,
        notificationId: ctx.notificationId,
        to: 'user-42',
        content: { event: 'order.shipped', orderId: 7 },
        metadata: { tenant: 'acme' },
      },
    });
  });

  it('signs exactly as Standard Webhooks specifies (checked against a receiver written here)', async () => {
    let seen: { headers: Record<string, string | string[] | undefined>; body: string } | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen = { headers: req.headers, body };
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const ctx = sendContext('webhook');
      const result = await sender().send(
        { to: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in` }, content: { a: 1 } },
        ctx,
      );
      // No JSON id in the answer: the idempotency key identifies the delivery.
      expect(result.providerMessageId).toBe(ctx.idempotencyKey);
      const timestamp = String(seen?.headers['webhook-timestamp']);
      const expected = createHmac('sha256', Buffer.from(SECRET.slice(6), 'base64'))
        .update(`${ctx.idempotencyKey}.${timestamp}.${seen?.body}`)
        .digest('base64');
      expect(seen?.headers['webhook-signature']).toBe(`v1,${expected}`);
      expect(seen?.headers['webhook-id']).toBe(ctx.idempotencyKey);
      expect(seen?.headers['idempotency-key']).toBe(ctx.idempotencyKey);
      expect(seen?.headers['x-notification-id']).toBe(ctx.notificationId);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('fails permanently when the receiver rejects the signature (wrong secret)', async () => {
    const error = await sender({ signingSecret: 'a-different-secret-of-some-length' })
      .send({ to: { url: url() }, content: {} }, sendContext('webhook'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ code: 401 });
    expect((error as Error).message).toMatch(/invalid signature/);
  });

  it('retries a 503 and then succeeds', async () => {
    sinks.setFaults([{ channel: 'webhook', fault: '5xx', failFirst: 1 }]);
    const ctx = sendContext('webhook');
    const s = sender();
    await expect(s.send({ to: { url: url() }, content: {} }, ctx)).rejects.toBeInstanceOf(TransientDeliveryError);
    const result = await s.send({ to: { url: url() }, content: {} }, ctx);
    expect(sinks.received({ idempotencyKey: ctx.idempotencyKey })).toEqual([
      expect.objectContaining({ attemptNo: 2, providerMessageId: result.providerMessageId }),
    ]);
  });

  it('fails permanently on a 4xx and passes a 429 Retry-After on', async () => {
    sinks.setFaults([
      { channel: 'webhook', recipient: 'gone', fault: '4xx', status: 410 },
      { channel: 'webhook', fault: '429', retryAfterSeconds: 5 },
    ]);
    const gone = await sender()
      .send({ to: { url: `${sinks.httpUrl}/webhook/gone` }, content: {} }, sendContext('webhook'))
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(PermanentDeliveryError);
    expect(gone).toMatchObject({ code: 410 });
    const limited = await sender()
      .send({ to: { url: url() }, content: {} }, sendContext('webhook'))
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(TransientDeliveryError);
    expect(limited).toMatchObject({ code: 429, retryAfterMs: 5000 });
  });

  it('times out against a receiver that never answers, and stops when the caller aborts', async () => {
    sinks.setFaults([{ channel: 'webhook', fault: 'timeout' }]);
    const timedOut = await sender({ timeoutMs: '300' })
      .send({ to: { url: url() }, content: {} }, sendContext('webhook'))
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(TransientDeliveryError);
    expect((timedOut as Error).message).toMatch(/timed out after 300 ms/);
    const controller = new AbortController();
    const pending = sender().send(
      { to: { url: url() }, content: {} },
      sendContext('webhook', { signal: controller.signal }),
    );
    setTimeout(() => controller.abort(new Error('cancelled')), 100);
    const aborted = await pending.catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(TransientDeliveryError);
    expect((aborted as Error).message).toMatch(/aborted by the caller \(cancelled\)/);
  });

  it('treats an unreachable receiver as transient', async () => {
    const error = await sender()
      .send({ to: { url: `http://127.0.0.1:${await closedPort()}/x` }, content: {} }, sendContext('webhook'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
  });
});

describe('webhook sender against internal targets (SSRF)', () => {
  it('refuses, permanently and without a request, a hostname that resolves to 127.0.0.1 (localhost)', async () => {
    const ctx = sendContext('webhook');
    const target = `http://localhost:${new URL(sinks.httpUrl).port}/webhook/orders`;
    const error = await defaultSender()
      .send({ to: { url: target }, content: { event: 'x' } }, ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(
      /127\.0\.0\.1 is a loopback address \(localhost resolves to it\).*WEBHOOK_ALLOWED_NETWORKS/,
    );
    expect(sinks.received({ notificationId: ctx.notificationId })).toHaveLength(0);
  });

  it('refuses cloud metadata, private, IPv6 loopback and IPv4-mapped IPv6 literals by default', async () => {
    for (const target of [
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.7/hook',
      'http://192.168.1.1/hook',
      'http://[::1]:9/hook',
      'http://[::ffff:127.0.0.1]:9/hook',
      'http://[fd00::1]/hook',
      'http://0.0.0.0:9/hook',
    ]) {
      const error = await defaultSender()
        .send({ to: { url: target }, content: {} }, sendContext('webhook'))
        .catch((e: unknown) => e);
      expect(error, target).toBeInstanceOf(PermanentDeliveryError);
      expect((error as Error).message, target).toMatch(/refused to connect: .* is a .* address/);
    }
  });

  it('reaches an internal receiver only when WEBHOOK_ALLOWED_NETWORKS lists its network', async () => {
    const target = `http://localhost:${new URL(sinks.httpUrl).port}/webhook/orders`;
    const ctx = sendContext('webhook');
    const result = await defaultSender({ allowedNetworks: '127.0.0.0/8,::1' }).send(
      { to: { url: target }, content: { event: 'x' } },
      ctx,
    );
    expect(result.providerMessageId).toMatch(/^wh_/);
    expect(sinks.received({ notificationId: ctx.notificationId })).toHaveLength(1);
    const other = await defaultSender({ allowedNetworks: '10.0.0.0/8' })
      .send({ to: { url: target }, content: {} }, sendContext('webhook'))
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(PermanentDeliveryError);
  });

  it('does not follow a redirect (e.g. to the metadata address): a 3xx is a permanent failure', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await sender()
        .send({ to: { url: `http://127.0.0.1:${port}/hook` }, content: {} }, sendContext('webhook'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentDeliveryError);
      expect(error).toMatchObject({ code: 307 });
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('rejects a WEBHOOK_ALLOWED_NETWORKS entry that is not a network, naming it', () => {
    const parsed = webhookChannel.configSchema.safeParse({ allowedNetworks: '127.0.0.0/8,intranet' });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('intranet is not an IP network');
  });
});
