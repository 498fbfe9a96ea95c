import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline } from './helpers/pipeline.js';

/**
 * Recipients end to end against real PostgreSQL, Kafka, Temporal and the dev sinks: profile-resolved sends,
 * preferences, suppressions (manual and automatic from a hard bounce), quiet hours, deletion, concurrency, bad input.
 */
let p: Pipeline;
let db: pg.Pool;
beforeAll(async () => {
  p = await startPipeline();
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(async () => {
  await db?.end();
  await p?.close();
});
beforeEach(() => {
  p.sinks.clearFaults();
});

const idOf = (res: { body: unknown }) => String((res.body as { id: string }).id);
const emailContent = { subject: 'Invoice', text: 'Your invoice is ready' };
const smsContent = { body: 'Your invoice is ready' };
/** `HH:MM:SS` of `at` in UTC. */
const utcClock = (at: Date) => at.toISOString().slice(11, 19);

describe('profile-resolved sends', () => {
  it('sends to the address in the profile when the delivery names only the channel', async () => {
    const put = await p.request('PUT', '/v1/recipients/user-1', {
      addresses: { email: 'user1@example.com' },
      timezone: 'Europe/Paris',
      locale: 'fr-FR',
      properties: { plan: 'pro' },
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toBe('"1"');
    const res = await p.post('/v1/notifications', {
      recipient: 'user-1',
      category: 'billing',
      deliveries: [{ channel: 'email', content: emailContent }],
    });
    expect(res.status).toBe(202);
    const sent = await p.waitForStatus(idOf(res), 'sent');
    expect(sent.recipient).toBe('user-1');
    const received = p.sinks.received({ notificationId: idOf(res) });
    expect(received.map((m) => [m.to].flat())).toEqual([['user1@example.com']]);
    // The resolved address is workflow state (encrypted in Temporal), not part of the status answer.
    expect(JSON.stringify(sent)).not.toContain('user1@example.com');
  });

  it('resolves the address when the delivery runs, so a profile change before a scheduled send applies', async () => {
    await p.request('PUT', '/v1/recipients/user-2', { addresses: { email: 'old2@example.com' } });
    const sendAt = new Date(Date.now() + 4_000).toISOString();
    const res = await p.post('/v1/notifications', {
      recipient: 'user-2',
      sendAt,
      deliveries: [{ channel: 'email', content: emailContent }],
    });
    expect(res.status).toBe(202);
    const patched = await p.request('PATCH', '/v1/recipients/user-2', { addresses: { email: 'new2@example.com' } });
    expect(patched.status).toBe(200);
    await p.waitForStatus(idOf(res), 'sent');
    const to = p.sinks.received({ notificationId: idOf(res) }).map((m) => String(m.to));
    expect(to).toEqual(['new2@example.com']);
  });

  it('answers 404 naming the recipient at submit when it does not exist', async () => {
    const res = await p.post('/v1/notifications', {
      recipient: 'nobody-here',
      deliveries: [{ channel: 'email', content: emailContent }],
    });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('UNKNOWN_RECIPIENT');
    expect(res.body.issues).toEqual([{ path: 'recipient', message: 'unknown recipient' }]);
  });

  it('fails a delivery whose profile has no address for the channel and falls back to the next channel', async () => {
    await p.request('PUT', '/v1/recipients/user-3', { addresses: { email: 'user3@example.com' } });
    const res = await p.post('/v1/notifications', {
      recipient: 'user-3',
      routing: 'fallback',
      deliveries: [
        { channel: 'sms', content: smsContent },
        { channel: 'email', content: emailContent },
      ],
    });
    const sent = await p.waitForStatus(idOf(res), 'sent');
    expect(sent.deliveries.map((d) => d.status)).toEqual(['failed', 'sent']);
    expect(sent.deliveries[0]?.lastError?.message).toMatch(/no-address/);
    expect(sent.deliveries[0]?.lastError?.permanent).toBe(true);
  });
});

describe('preferences', () => {
  it('skips the channel a recipient opted out of for a category, without retrying, and fallback delivers on the next', async () => {
    await p.request('PUT', '/v1/recipients/user-4', { addresses: { sms: '+14155550401', email: 'user4@example.com' } });
    const prefs = await p.request('PUT', '/v1/recipients/user-4/preferences', {
      categories: { billing: { channels: { sms: false } } },
    });
    expect(prefs.status).toBe(200);
    const res = await p.post('/v1/notifications', {
      recipient: 'user-4',
      category: 'billing',
      routing: 'fallback',
      deliveries: [
        { channel: 'sms', content: smsContent },
        { channel: 'email', content: emailContent },
      ],
    });
    const sent = await p.waitForStatus(idOf(res), 'sent');
    expect(sent.deliveries.map((d) => [d.channel, d.status, d.skipReason, d.attempts])).toEqual([
      ['sms', 'skipped', 'opted-out', 1],
      ['email', 'sent', undefined, 1],
    ]);
    expect(p.sinks.received({ notificationId: idOf(res) }).map((m) => m.channel)).toEqual(['email']);

    // Another category is not affected by that opt-out.
    const other = await p.post('/v1/notifications', {
      recipient: 'user-4',
      category: 'security',
      deliveries: [{ channel: 'sms', content: smsContent }],
    });
    await p.waitForStatus(idOf(other), 'sent');
  });

  it('completes as skipped when every delivery is opted out (nothing to retry)', async () => {
    await p.request('PUT', '/v1/recipients/user-5', { addresses: { email: 'user5@example.com' } });
    await p.request('PUT', '/v1/recipients/user-5/preferences', { channels: { email: false } });
    const res = await p.post('/v1/notifications', {
      recipient: 'user-5',
      deliveries: [{ channel: 'email', content: emailContent }],
    });
    const done = await p.waitForStatus(idOf(res), 'skipped');
    expect(done.deliveries[0]?.skipReason).toBe('opted-out');
    expect(p.sinks.received({ notificationId: idOf(res) })).toHaveLength(0);
  });
});

describe('suppressions', () => {
  it('records a suppression when the SMTP sink hard-bounces an address, and skips the next send to it', async () => {
    const address = `bounce-${p.prefix}@example.com`;
    p.sinks.setFaults([{ channel: 'email', recipient: address, fault: 'smtp550' }]);
    const first = await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: address, content: emailContent }],
    });
    const failed = await p.waitForStatus(idOf(first), 'failed');
    expect(failed.deliveries[0]?.lastError?.permanent).toBe(true);

    const list = await p.request('GET', '/v1/suppressions?channel=email');
    const suppressions = (list.body as { suppressions: Array<Record<string, unknown>> }).suppressions;
    const entry = suppressions.find((s) => s.address === address);
    expect(entry).toMatchObject({ channel: 'email', source: 'automatic', notificationId: idOf(first) });
    expect(String(entry?.reason)).toMatch(/550/);
    expect(typeof entry?.createdAt).toBe('string');

    p.sinks.clearFaults();
    const second = await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: address, content: emailContent }],
    });
    const skipped = await p.waitForStatus(idOf(second), 'skipped');
    expect(skipped.deliveries[0]).toMatchObject({ status: 'skipped', skipReason: 'suppressed', attempts: 1 });
    expect(p.sinks.received({ notificationId: idOf(second) })).toHaveLength(0);

    // Removing the suppression lets the address receive again.
    const del = await p.request('DELETE', `/v1/suppressions?channel=email&address=${encodeURIComponent(address)}`);
    expect(del.status).toBe(204);
    const third = await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: address, content: emailContent }],
    });
    await p.waitForStatus(idOf(third), 'sent');
  });

  it('skips a manually suppressed phone number and sends the other channel of an `all` notification', async () => {
    const add = await p.request('POST', '/v1/suppressions', {
      channel: 'sms',
      address: '+14155550402',
      reason: 'user asked by phone',
    });
    expect(add.status).toBe(201);
    expect((await p.request('POST', '/v1/suppressions', { channel: 'sms', address: '+14155550402' })).status).toBe(200);
    const res = await p.post('/v1/notifications', {
      deliveries: [
        { channel: 'sms', to: '+14155550402', content: smsContent },
        { channel: 'email', to: 'user402@example.com', content: emailContent },
      ],
    });
    const sent = await p.waitForStatus(idOf(res), 'sent');
    expect(sent.deliveries.map((d) => [d.status, d.skipReason])).toEqual([
      ['skipped', 'suppressed'],
      ['sent', undefined],
    ]);
  });
});

describe('quiet hours', () => {
  it('holds a notification due inside the window with a durable timer and sends it when the window opens', async () => {
    const now = new Date();
    const end = new Date(now.getTime() + 8_000);
    await p.request('PUT', '/v1/recipients/user-6', {
      addresses: { email: 'user6@example.com' },
      timezone: 'UTC',
      quietHours: { start: utcClock(new Date(now.getTime() - 60_000)), end: utcClock(end) },
    });
    const res = await p.post('/v1/notifications', {
      recipient: 'user-6',
      category: 'digest',
      deliveries: [{ channel: 'email', content: emailContent }],
    });
    const held = await p.waitForStatus(idOf(res), 'held');
    expect(held.deliveries[0]?.status).toBe('held');
    const heldUntil = Date.parse(String(held.heldUntil));
    expect(heldUntil).toBe(Math.floor(end.getTime() / 1000) * 1000);
    expect(p.sinks.received({ notificationId: idOf(res) })).toHaveLength(0);

    // An urgent category bypasses the window.
    const urgent = await p.post('/v1/notifications', {
      recipient: 'user-6',
      category: 'urgent',
      deliveries: [{ channel: 'email', content: emailContent }],
    });
    const urgentSent = await p.waitForStatus(idOf(urgent), 'sent');
    expect(urgentSent.heldUntil).toBeUndefined();

    await p.waitForStatus(idOf(res), 'sent', 60_000);
    const received = p.sinks.received({ notificationId: idOf(res) });
    expect(received).toHaveLength(1);
    expect(received[0]?.receivedAt).toBeGreaterThanOrEqual(heldUntil);
  });
});

describe('recipient API', () => {
  it("erases a deleted recipient's profile, preferences and suppressions", async () => {
    await p.request('PUT', '/v1/recipients/user-7', {
      addresses: { email: 'user7@example.com', sms: '+14155550407' },
      properties: { name: 'Grace' },
      quietHours: { start: '22:00', end: '07:00' },
    });
    await p.request('PUT', '/v1/recipients/user-7/preferences', { channels: { sms: false } });
    await p.recipients.addSuppression(p.clientId, {
      channel: 'email',
      address: 'user7@example.com',
      reason: '550 test',
      source: 'automatic',
      recipientId: 'user-7',
    });

    const del = await p.request('DELETE', '/v1/recipients/user-7');
    expect(del.status).toBe(204);
    expect((await p.request('GET', '/v1/recipients/user-7')).status).toBe(404);
    expect((await p.request('DELETE', '/v1/recipients/user-7')).status).toBe(404);
    const rows = await db.query(
      "SELECT 1 FROM recipients WHERE owner = $1 AND recipient_id = 'user-7' UNION ALL SELECT 1 FROM suppressions WHERE owner = $1 AND (recipient_id = 'user-7' OR address = 'user7@example.com')",
      [p.clientId],
    );
    expect(rows.rowCount).toBe(0);
    const text = JSON.stringify((await db.query('SELECT * FROM recipients WHERE owner = $1', [p.clientId])).rows);
    expect(text).not.toContain('Grace');
    const send = await p.post('/v1/notifications', {
      recipient: 'user-7',
      deliveries: [{ channel: 'email', content: emailContent }],
    });
    expect(send.status).toBe(404);
  });

  it('loses no update when many PATCHes of one recipient run concurrently', async () => {
    await p.request('PUT', '/v1/recipients/user-8', { addresses: { email: 'user8@example.com' } });
    const n = 20;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        p.request('PATCH', '/v1/recipients/user-8', { properties: { [`k${i}`]: i } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 200));
    const got = await p.request('GET', '/v1/recipients/user-8');
    const body = got.body as { properties: Record<string, number>; version: number };
    expect(Object.keys(body.properties).sort()).toEqual(Array.from({ length: n }, (_, i) => `k${i}`).sort());
    expect(body.version).toBe(n + 1);
    expect(got.headers.get('etag')).toBe(`"${n + 1}"`);
  });

  it('refuses a PATCH whose If-Match names an outdated version with 412', async () => {
    await p.request('PUT', '/v1/recipients/user-9', { addresses: { email: 'user9@example.com' } });
    await p.request('PATCH', '/v1/recipients/user-9', { locale: 'en' });
    const stale = await p.request('PATCH', '/v1/recipients/user-9', { locale: 'de' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    expect((stale.body as { code: string }).code).toBe('VERSION_CONFLICT');
    const fresh = await p.request(
      'PATCH',
      '/v1/recipients/user-9',
      { locale: 'de', timezone: null },
      { 'if-match': '"2"' },
    );
    expect(fresh.status).toBe(200);
    expect((fresh.body as { locale: string }).locale).toBe('de');
  });

  it('answers 400 naming the field for an invalid time zone, address, quiet hours or preference channel', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/v1/recipients/bad-1', { timezone: 'Mars/Olympus' }, 'timezone'],
      ['PUT', '/v1/recipients/bad-1', { addresses: { email: 'not-an-email' } }, 'addresses.email'],
      ['PUT', '/v1/recipients/bad-1', { addresses: { sms: '0155 555' } }, 'addresses.sms'],
      ['PUT', '/v1/recipients/bad-1', { quietHours: { start: '25:00', end: '07:00' } }, 'quietHours.start'],
      ['PUT', '/v1/recipients/bad%20id', {}, 'params.recipientId'],
      ['PATCH', '/v1/recipients/user-9', { timezone: 'Nowhere' }, 'timezone'],
      ['PUT', '/v1/recipients/user-9/preferences', { channels: { fax: true } }, 'channels'],
      ['POST', '/v1/suppressions', { channel: 'pigeon', address: 'x' }, 'channel'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await p.request(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      const issues = (res.body as { issues: Array<{ path: string }> }).issues.map((i) => i.path);
      expect(
        issues.some((i) => i === field || i.startsWith(`${field}`)),
        `${JSON.stringify(issues)} should name ${field}`,
      ).toBe(true);
    }
    const noTo = await p.post('/v1/notifications', { deliveries: [{ channel: 'email', content: emailContent }] });
    expect(noTo.status).toBe(400);
    expect(noTo.body.issues).toEqual([
      { path: 'deliveries.0.to', message: 'to is required unless the notification names a recipient' },
    ]);
  });

  it('scopes recipients by API key: another client sees 404', async () => {
    await p.request('PUT', '/v1/recipients/user-10', { addresses: { email: 'user10@example.com' } });
    await db.query(
      "INSERT INTO recipients (owner, recipient_id) VALUES ('someone-else', 'user-11') ON CONFLICT DO NOTHING",
    );
    expect((await p.request('GET', '/v1/recipients/user-11')).status).toBe(404);
    expect((await p.request('GET', '/v1/recipients/user-10')).status).toBe(200);
  });

  it('documents the recipient and suppression routes in the OpenAPI document, with examples', async () => {
    const res = await fetch(`${p.url}/openapi.json`);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { example?: unknown }> } }>>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/recipients/{recipientId}',
        '/v1/recipients/{recipientId}/preferences',
        '/v1/suppressions',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/recipients/{recipientId}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
      'put',
    ]);
    expect(
      doc.paths['/v1/recipients/{recipientId}']?.put?.requestBody?.content['application/json']?.example,
    ).toMatchObject({ addresses: { email: 'ada@example.com' } });
    expect(doc.paths['/v1/suppressions']?.post?.requestBody?.content['application/json']?.example).toMatchObject({
      channel: 'email',
    });
  });
});
