import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkMessage } from '../dev/sinks/index.js';
import { eventually } from './helpers/kafka.js';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline, StatusBody } from './helpers/pipeline.js';

/**
 * Digests end to end: gateway → Kafka → ingest → notification workflows → join activity (signal-with-start) →
 * digest workflow → channel activities → dev sinks, with the recipient profiles in PostgreSQL.
 */
let p: Pipeline;

beforeAll(async () => {
  // Generous provider timeouts: on a busy machine a 3 s SMTP timeout makes the sender retry a message the sink already
  // has (a provider-level duplicate with the same idempotency key), which is not what these tests look at.
  p = await startPipeline({ env: { EMAIL_TIMEOUT_MS: '15000', SMS_TIMEOUT_MS: '15000' } });
}, 120_000);
afterAll(async () => {
  await p?.close();
});

async function putRecipient(id: string, addresses: Record<string, string>): Promise<void> {
  const res = await p.request('PUT', `/v1/recipients/${id}`, { addresses });
  expect([200, 201]).toContain(res.status);
}

async function submit(body: unknown): Promise<string> {
  const res = await p.post('/v1/notifications', body);
  expect(res.status).toBe(202);
  return res.body.id as string;
}

/** Waits until the notification's workflow completed and returns its final status. */
async function completed(id: string, timeoutMs = 90_000): Promise<StatusBody> {
  let last: StatusBody | undefined;
  await eventually(
    async () => {
      last = await p.status(id);
      return last.completedAt !== undefined;
    },
    `${id} to complete`,
    timeoutMs,
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; last: ${JSON.stringify(last)}`);
  });
  return last as StatusBody;
}

function headersOf(m: SinkMessage): Record<string, string> {
  return (m.details.headers ?? {}) as Record<string, string>;
}

describe('digests', () => {
  it('combines 20 concurrent submissions into one window into exactly one send listing all of them', async () => {
    const recipient = `${p.prefix}-dig-ada`;
    const address = `${p.prefix}-ada@example.com`;
    await putRecipient(recipient, { email: address });
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        submit({
          recipient,
          digest: { key: 'comments', window: '30s' },
          deliveries: [{ channel: 'email', content: { subject: `Comment ${i}`, text: `comment body ${i}` } }],
        }),
      ),
    );
    // While the window is open every notification already says which send it went into.
    const digested = await p.waitForStatus(ids[0] ?? '', 'digested', 60_000);
    expect(digested.digestedInto).toMatch(/^dgs_/);
    expect(digested.completedAt).toBeUndefined();
    const finals = await Promise.all(ids.map((id) => completed(id)));
    const sendIds = new Set(finals.map((s) => s.digestedInto));
    expect(sendIds.size).toBe(1);
    const sendId = [...sendIds][0] ?? '';
    for (const s of finals) {
      expect(s.status).toBe('digested');
      expect(s.deliveries).toEqual([expect.objectContaining({ channel: 'email', status: 'sent' })]);
    }
    const received = p.sinks.received((m) => m.channel === 'email' && m.to === address);
    expect(received).toHaveLength(1);
    const [message] = received;
    expect(message?.notificationId).toBe(sendId);
    expect(message?.idempotencyKey).toBe(`${sendId}.email`);
    expect(finals[0]?.deliveries[0]?.providerMessageId).toBe(message?.providerMessageId);
    const listed = (headersOf(message as SinkMessage)['x-notify-digest-items'] ?? '').split(/\s+/).filter(Boolean);
    expect(new Set(listed)).toEqual(new Set(ids));
    expect(listed).toHaveLength(20);
    const text = (message?.details.text as string | undefined) ?? '';
    for (let i = 0; i < 20; i++) expect(text).toContain(`comment body ${i}`);
    expect(message?.summary).toMatch(/^Comment \d+ \(\+19 more\)$/);
  }, 180_000);

  it('sends separately per recipient and per key, each send holding only its own notifications', async () => {
    const groups: Array<{ recipient: string; key: string; channel: 'email' | 'sms'; ids: string[] }> = [];
    const people = [
      { recipient: `${p.prefix}-dig-bob`, email: `${p.prefix}-bob@example.com`, sms: '+14155550701' },
      { recipient: `${p.prefix}-dig-eve`, email: `${p.prefix}-eve@example.com`, sms: '+14155550702' },
    ];
    for (const person of people) await putRecipient(person.recipient, { email: person.email, sms: person.sms });
    for (const person of people)
      for (const [key, channel] of [
        ['likes', 'email'],
        ['alerts', 'sms'],
      ] as const)
        groups.push({ recipient: person.recipient, key, channel, ids: [] });
    await Promise.all(
      groups.flatMap((g) =>
        [0, 1].map(async (n) => {
          const content =
            g.channel === 'email'
              ? { subject: `${g.key} ${n}`, text: `${g.recipient} ${g.key} ${n}` }
              : { body: `${g.recipient} ${g.key} ${n}` };
          g.ids.push(
            await submit({
              recipient: g.recipient,
              digest: { key: g.key, window: '15s' },
              deliveries: [{ channel: g.channel, content }],
            }),
          );
        }),
      ),
    );
    const sendIds = new Set<string>();
    for (const g of groups) {
      const finals = await Promise.all(g.ids.map((id) => completed(id)));
      const own = new Set(finals.map((s) => s.digestedInto));
      expect(own.size).toBe(1);
      const sendId = [...own][0] ?? '';
      sendIds.add(sendId);
      const received = p.sinks.received({ notificationId: sendId });
      expect(received).toHaveLength(1);
      const text =
        g.channel === 'email'
          ? ((received[0]?.details.text as string | undefined) ?? '')
          : (received[0]?.summary ?? '');
      expect(text).toContain(`${g.recipient} ${g.key} 0`);
      expect(text).toContain(`${g.recipient} ${g.key} 1`);
      // Nothing of another group in this send.
      for (const other of groups.filter((o) => o !== g)) expect(text).not.toContain(`${other.recipient} ${other.key}`);
      if (g.channel === 'email')
        expect(new Set((headersOf(received[0] as SinkMessage)['x-notify-digest-items'] ?? '').split(' '))).toEqual(
          new Set(g.ids),
        );
    }
    expect(sendIds.size).toBe(4);
  }, 180_000);
});
