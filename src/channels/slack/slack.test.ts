import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSinks } from '../../../dev/sinks/index.js';
import type { RunningSinks } from '../../../dev/sinks/index.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import { closedPort, sendContext, silentLogger } from '../../../test/helpers/channel-test-helpers.js';
import type { ChannelSender } from '../types.js';
import { slackChannel } from './index.js';
import type { SlackContent, SlackRecipient } from './schema.js';

const TOKEN = 'xoxb-test-token';
let sinks: RunningSinks;

/** A sender whose incoming webhooks may reach this machine (the sink listens on loopback), unless overridden. */
function sender(settings: Record<string, unknown> = {}): ChannelSender<SlackRecipient, SlackContent> {
  return slackChannel.createSender(
    slackChannel.configSchema.parse({
      apiUrl: `${sinks.httpUrl}/slack/api`,
      botToken: TOKEN,
      allowedNetworks: '127.0.0.0/8,::1',
      ...settings,
    }),
    { logger: silentLogger },
  );
}
/** A sender with the default network policy: incoming webhooks to internal targets refused. */
function defaultSender(settings: Record<string, unknown> = {}): ChannelSender<SlackRecipient, SlackContent> {
  return slackChannel.createSender(
    slackChannel.configSchema.parse({ apiUrl: `${sinks.httpUrl}/slack/api`, botToken: TOKEN, ...settings }),
    { logger: silentLogger },
  );
}
const message: { to: SlackRecipient; content: SlackContent } = {
  to: { channel: 'C0123ABCD' },
  content: { text: 'Deploy finished' },
};

beforeAll(async () => {
  sinks = await startSinks({
    host: '127.0.0.1',
    httpPort: 0,
    smtpPort: 0,
    webhookSecret: 'whsec_dGVzdA==',
    slackBotToken: TOKEN,
  });
});
afterEach(() => sinks.clearFaults());
afterAll(() => sinks.close());

describe('slack channel schemas', () => {
  it('accepts a conversation id, a #name or a webhook URL, and explains the accepted forms otherwise', () => {
    for (const ok of [
      { channel: 'C0123ABCD' },
      { channel: '#alerts' },
      { webhookUrl: 'https://hooks.slack.com/services/T/B/x' },
    ]) {
      expect(slackChannel.recipientSchema.safeParse(ok).success, JSON.stringify(ok)).toBe(true);
    }
    const bad = slackChannel.recipientSchema.safeParse({ channel: 'alerts' });
    expect(bad.success).toBe(false);
    expect(slackChannel.recipientSchema.safeParse({ webhookUrl: 'ftp://x' }).success).toBe(false);
    expect(slackChannel.contentSchema.safeParse({ blocks: [{ type: 'section' }] }).success).toBe(false);
    expect(
      slackChannel.contentSchema.safeParse({
        text: 'fallback',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }],
      }).success,
    ).toBe(true);
  });
});

describe('slack sender: chat.postMessage against the sink', () => {
  it('posts with metadata and idempotency headers and returns channel:ts', async () => {
    const ctx = sendContext('slack');
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Deploy* finished' } }];
    const result = await sender().send(
      { to: { channel: 'C0123ABCD' }, content: { text: 'Deploy finished', blocks } },
      ctx,
    );
    expect(result.providerMessageId).toMatch(/^C0123ABCD:\d+\.\d{6}$/);
    const [received] = sinks.received({ notificationId: ctx.notificationId });
    expect(received).toMatchObject({
      channel: 'slack',
      idempotencyKey: ctx.idempotencyKey,
      to: 'C0123ABCD',
      summary: 'Deploy finished',
      providerMessageId: result.providerMessageId,
    });
    expect(received?.details).toMatchObject({
      blocks,
      metadata: {
        event_type: 'notify_notification',
        event_payload: { notification_id: ctx.notificationId, idempotency_key: ctx.idempotencyKey },
      },
    });
  });

  it('fails permanently on invalid_auth, naming the setting to fix', async () => {
    const error = await sender({ botToken: 'xoxb-wrong' })
      .send(message, sendContext('slack'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(/invalid_auth.*SLACK_BOT_TOKEN/);
  });

  it('fails permanently on channel_not_found', async () => {
    sinks.setFaults([{ channel: 'slack', recipient: 'CGONE', fault: '4xx', slackError: 'channel_not_found' }]);
    const error = await sender()
      .send({ to: { channel: 'CGONE123' }, content: { text: 'x' } }, sendContext('slack'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(/channel_not_found/);
  });

  it('retries an HTTP 503 and then succeeds', async () => {
    sinks.setFaults([{ channel: 'slack', fault: '5xx', failFirst: 1 }]);
    const ctx = sendContext('slack');
    const s = sender();
    const first = await s.send(message, ctx).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TransientDeliveryError);
    expect(first).toMatchObject({ code: 503 });
    const result = await s.send(message, ctx);
    expect(sinks.received({ idempotencyKey: ctx.idempotencyKey })).toEqual([
      expect.objectContaining({ attemptNo: 2, providerMessageId: result.providerMessageId }),
    ]);
  });

  it('passes a 429 Retry-After on as retryAfterMs without retrying inside the SDK', async () => {
    sinks.setFaults([{ channel: 'slack', fault: '429', retryAfterSeconds: 3 }]);
    const ctx = sendContext('slack');
    const error = await sender()
      .send(message, ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error).toMatchObject({ code: 429, retryAfterMs: 3000 });
    expect(sinks.received({ idempotencyKey: ctx.idempotencyKey })).toHaveLength(0);
  });

  it('times out against an API that never answers', async () => {
    sinks.setFaults([{ channel: 'slack', fault: 'timeout' }]);
    const error = await sender({ timeoutMs: '300' })
      .send(message, sendContext('slack'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/timed out after 300 ms/);
  });

  it('stops when the caller aborts', async () => {
    sinks.setFaults([{ channel: 'slack', fault: 'timeout' }]);
    const controller = new AbortController();
    const pending = sender({ timeoutMs: '30000' }).send(message, sendContext('slack', { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('activity cancelled')), 100);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toMatch(/aborted by the caller/);
  });

  it('treats an unreachable API as transient', async () => {
    const error = await sender({ apiUrl: `http://127.0.0.1:${await closedPort()}/api` })
      .send(message, sendContext('slack'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
  });
});

describe('slack sender: incoming webhooks against the sink', () => {
  it('posts to the webhook URL and returns the idempotency key', async () => {
    const ctx = sendContext('slack');
    const result = await sender().send(
      { to: { webhookUrl: `${sinks.httpUrl}/slack/webhook/T000/B000/XXXX` }, content: { text: 'Build broke' } },
      ctx,
    );
    expect(result.providerMessageId).toBe(ctx.idempotencyKey);
    expect(sinks.received({ notificationId: ctx.notificationId })).toEqual([
      expect.objectContaining({
        channel: 'slack',
        to: '/slack/webhook/T000/B000/XXXX',
        summary: 'Build broke',
        idempotencyKey: ctx.idempotencyKey,
      }),
    ]);
  });

  it('fails permanently on a 404 (revoked webhook) and transiently on a 429 with Retry-After', async () => {
    const to = { webhookUrl: `${sinks.httpUrl}/slack/webhook/T1/B1/revoked` };
    sinks.setFaults([{ channel: 'slack', recipient: 'revoked', fault: '4xx', status: 404 }]);
    const gone = await sender()
      .send({ to, content: { text: 'x' } }, sendContext('slack'))
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(PermanentDeliveryError);
    expect((gone as Error).message).toMatch(/wrong or was revoked/);
    sinks.setFaults([{ channel: 'slack', fault: '429', retryAfterSeconds: 2 }]);
    const limited = await sender()
      .send({ to, content: { text: 'x' } }, sendContext('slack'))
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(TransientDeliveryError);
    expect(limited).toMatchObject({ code: 429, retryAfterMs: 2000 });
  });

  it('retries a webhook 500 and then succeeds', async () => {
    sinks.setFaults([{ channel: 'slack', fault: '5xx', status: 500, failFirst: 1 }]);
    const ctx = sendContext('slack');
    const to = { webhookUrl: `${sinks.httpUrl}/slack/webhook/T2/B2/retry` };
    await expect(sender().send({ to, content: { text: 'x' } }, ctx)).rejects.toBeInstanceOf(TransientDeliveryError);
    await sender().send({ to, content: { text: 'x' } }, ctx);
    expect(sinks.received({ idempotencyKey: ctx.idempotencyKey })).toEqual([expect.objectContaining({ attemptNo: 2 })]);
  });
});

describe('slack sender: incoming webhooks to internal targets (SSRF)', () => {
  const localhostHook = () => `http://localhost:${new URL(sinks.httpUrl).port}/slack/webhook/T3/B3/local`;

  it('refuses, permanently and without a request, a webhook URL whose host resolves to 127.0.0.1 (localhost)', async () => {
    const ctx = sendContext('slack');
    const error = await defaultSender()
      .send({ to: { webhookUrl: localhostHook() }, content: { text: 'x' } }, ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(
      /127\.0\.0\.1 is a loopback address \(localhost resolves to it\).*SLACK_ALLOWED_NETWORKS/,
    );
    expect(sinks.received({ notificationId: ctx.notificationId })).toHaveLength(0);
  });

  it('refuses cloud metadata, private and IPv6 loopback literals by default', async () => {
    for (const webhookUrl of [
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.7/hook',
      'http://[::1]:9/hook',
      'http://[::ffff:127.0.0.1]:9/hook',
    ]) {
      const error = await defaultSender()
        .send({ to: { webhookUrl }, content: { text: 'x' } }, sendContext('slack'))
        .catch((e: unknown) => e);
      expect(error, webhookUrl).toBeInstanceOf(PermanentDeliveryError);
      expect((error as Error).message, webhookUrl).toMatch(/refused to connect: .* is a .* address/);
    }
  });

  it('reaches the sink through localhost only when SLACK_ALLOWED_NETWORKS lists loopback', async () => {
    const ctx = sendContext('slack');
    const result = await defaultSender({ allowedNetworks: '127.0.0.0/8,::1' }).send(
      { to: { webhookUrl: localhostHook() }, content: { text: 'via localhost' } },
      ctx,
    );
    expect(result.providerMessageId).toBe(ctx.idempotencyKey);
    expect(sinks.received({ notificationId: ctx.notificationId })).toEqual([
      expect.objectContaining({ channel: 'slack', summary: 'via localhost' }),
    ]);
    const other = await defaultSender({ allowedNetworks: '10.0.0.0/8' })
      .send({ to: { webhookUrl: localhostHook() }, content: { text: 'x' } }, sendContext('slack'))
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(PermanentDeliveryError);
  });

  it('does not follow a redirect from a webhook URL: a 3xx is a permanent failure', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await sender()
        .send({ to: { webhookUrl: `http://127.0.0.1:${port}/hook` }, content: { text: 'x' } }, sendContext('slack'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentDeliveryError);
      expect(error).toMatchObject({ code: 307 });
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('rejects a SLACK_ALLOWED_NETWORKS entry that is not a network, naming it', () => {
    const parsed = slackChannel.configSchema.safeParse({ allowedNetworks: '127.0.0.0/8,intranet' });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('intranet is not an IP network');
  });
});
