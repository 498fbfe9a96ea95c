import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSinks } from './sinks.js';
import type { RunningSinks } from './sinks.js';

const SECRET = 'whsec_c2luay10ZXN0LXNlY3JldA==';
let sinks: RunningSinks;

/** Signs a body the Standard-Webhooks way, independently of the webhook channel. */
function signed(id: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signature}`,
  };
}

beforeAll(async () => {
  sinks = await startSinks({ host: '127.0.0.1', httpPort: 0, smtpPort: 0, webhookSecret: SECRET });
});
afterEach(() => {
  sinks.clearFaults();
  sinks.reset();
});
afterAll(() => sinks.close());

describe('dev sinks', () => {
  it('accepts a correctly signed webhook and rejects a tampered one with 401', async () => {
    const body = JSON.stringify({ id: 'key-1', notificationId: 'ntf_1', content: { hello: 'world' } });
    const ok = await fetch(`${sinks.httpUrl}/webhook/orders`, {
      method: 'POST',
      headers: { ...signed('key-1', body), 'x-notification-id': 'ntf_1' },
      body,
    });
    expect(ok.status).toBe(200);
    const answer = (await ok.json()) as { id: string };
    expect(answer.id).toMatch(/^wh_[0-9a-f]{24}$/);
    const tampered = await fetch(`${sinks.httpUrl}/webhook/orders`, {
      method: 'POST',
      headers: signed('key-2', body),
      body: body.replace('world', 'there'),
    });
    expect(tampered.status).toBe(401);
    const stale = await fetch(`${sinks.httpUrl}/webhook/orders`, {
      method: 'POST',
      headers: signed('key-3', body, Math.floor(Date.now() / 1000) - 3600),
      body,
    });
    expect(stale.status).toBe(401);
    expect(sinks.received()).toEqual([
      expect.objectContaining({
        channel: 'webhook',
        idempotencyKey: 'key-1',
        notificationId: 'ntf_1',
        providerMessageId: answer.id,
        to: '/webhook/orders',
      }),
    ]);
  });

  it('lists, filters and clears messages over HTTP and renders them on the HTML page', async () => {
    for (const [id, n] of [
      ['a', 'ntf_a'],
      ['b', 'ntf_b'],
    ] as const) {
      const body = JSON.stringify({ notificationId: n, content: { note: `<${id}>` } });
      await fetch(`${sinks.httpUrl}/webhook/x`, { method: 'POST', headers: signed(id, body), body });
    }
    const filtered = (await (await fetch(`${sinks.httpUrl}/messages?notificationId=ntf_b`)).json()) as Array<{
      idempotencyKey: string;
    }>;
    expect(filtered.map((m) => m.idempotencyKey)).toEqual(['b']);
    const page = await (await fetch(`${sinks.httpUrl}/`)).text();
    expect(page).toContain('ntf_a');
    expect(page).toContain('&lt;b&gt;'); // content is escaped
    expect((await fetch(`${sinks.httpUrl}/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(`${sinks.httpUrl}/messages`)).json()).toEqual([]);
  });

  it('takes fault rules over HTTP and explains invalid ones', async () => {
    const bad = await fetch(`${sinks.httpUrl}/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ fault: 'explode' }]),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/fault must be one of 5xx, 4xx, 429/);
    const put = await fetch(`${sinks.httpUrl}/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ channel: 'webhook', fault: '5xx', status: 502, failFirst: 1 }] }),
    });
    expect(put.status).toBe(200);
    const body = JSON.stringify({ content: {} });
    const first = await fetch(`${sinks.httpUrl}/webhook/y`, { method: 'POST', headers: signed('k', body), body });
    const second = await fetch(`${sinks.httpUrl}/webhook/y`, { method: 'POST', headers: signed('k', body), body });
    expect([first.status, second.status]).toEqual([502, 200]);
    expect(sinks.received({ idempotencyKey: 'k' })).toEqual([expect.objectContaining({ attemptNo: 2 })]);
    expect((await fetch(`${sinks.httpUrl}/faults`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(`${sinks.httpUrl}/faults`)).json()).toEqual([]);
  });

  it('rejects invalid fault rules set in-process with a message naming the field', () => {
    expect(() => sinks.setFaults([{ fault: '5xx', failFirst: 0 }])).toThrow(/failFirst must be at least 1/);
  });

  it('validates Twilio requests like Twilio does', async () => {
    const url = `${sinks.httpUrl}/2010-04-01/Accounts/AC${'0'.repeat(32)}/Messages.json`;
    const auth = `Basic ${Buffer.from(`AC${'0'.repeat(32)}:any-token`).toString('base64')}`;
    const post = (form: Record<string, string>, authorization = auth) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    const noAuth = await post({ To: '+14155550123', From: '+15005550006', Body: 'hi' }, '');
    expect(noAuth.status).toBe(401);
    const badTo = await post({ To: '0123', From: '+15005550006', Body: 'hi' });
    expect(badTo.status).toBe(400);
    expect(await badTo.json()).toMatchObject({ code: 21211, status: 400 });
    const created = await post({ To: '+14155550123', From: '+15005550006', Body: 'hi' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      sid: expect.stringMatching(/^SM[0-9a-f]{32}$/) as unknown,
      status: 'queued',
      to: '+14155550123',
      body: 'hi',
    });
  });

  it('waitFor resolves on a later message and rejects with a clear message when none arrives', async () => {
    const waiting = sinks.waitFor((m) => m.idempotencyKey === 'later', 5_000);
    const body = JSON.stringify({ content: {} });
    await fetch(`${sinks.httpUrl}/webhook/z`, { method: 'POST', headers: signed('later', body), body });
    await expect(waiting).resolves.toMatchObject({ idempotencyKey: 'later' });
    await expect(sinks.waitFor((m) => m.idempotencyKey === 'never', 50)).rejects.toThrow(
      /no matching message arrived at the sinks within 50 ms/,
    );
  });

  it('answers unknown routes with 404', async () => {
    expect((await fetch(`${sinks.httpUrl}/nope`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
