import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatApiKeyEntry, generateApiKey, SCOPES } from '../src/auth/api-keys.js';
import { EVENT_TYPES, eventId } from '../src/shared/events.js';
import { eventually } from './helpers/kafka.js';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline } from './helpers/pipeline.js';

/**
 * Delivery events to the caller end to end: real Kafka, Temporal, PostgreSQL, the dev sinks, and a receiver of our own
 * (node:http) that verifies every request with the official `standardwebhooks` package and deduplicates by
 * `webhook-id`, as the Standard Webhooks spec tells receivers to.
 */

interface Received {
  id: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  verified: boolean;
}

/** A receiver on a fixed port that can be stopped (connections refused) and started again. */
class Receiver {
  readonly requests: Received[] = [];
  secrets: string[] = [];
  /** Paths that answer 410 Gone once, then like `/events`. */
  private readonly goneOnce = new Set(['/gone-once', '/solo-gone-once']);
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req).then((code) => res.writeHead(code).end()));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }

  /** Whether the event `id` arrived at `path` with a signature the verifier accepted. */
  receivedVerified(path: string, id: string): boolean {
    return this.requests.some((r) => r.path === path && r.verified && r.id === id);
  }

  url(path = '/events'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(req.headers[h] ?? '')]),
    );
    const verified = this.secrets.some((s) => {
      try {
        new Webhook(s).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    this.requests.push({ id: headers['webhook-id'] ?? '', path: req.url ?? '', headers, body, verified });
    if (req.url === '/gone') return 410;
    if (req.url !== undefined && this.goneOnce.delete(req.url)) return 410;
    return verified ? 204 : 401;
  }

  /** Verified requests deduplicated by webhook-id (the first of each). */
  distinct(): Map<string, Received> {
    const out = new Map<string, Received>();
    for (const r of this.requests) if (r.verified && !out.has(r.id)) out.set(r.id, r);
    return out;
  }
}

let p: Pipeline;
const receiver = new Receiver();
const otherKey = generateApiKey();
const otherClient = `events-other-${Math.random().toString(36).slice(2, 8)}`;
/** A third client, whose only endpoint a 410 disables. */
const soloKey = generateApiKey();
const soloClient = `events-solo-${Math.random().toString(36).slice(2, 8)}`;
/** How long the gateway trusts its answer to "has this client an enabled endpoint?" in this file. */
const PRESENCE_TTL_MS = 1_000;

beforeAll(async () => {
  // Learn a free port, then keep the receiver down: events emitted meanwhile must wait and arrive later.
  await receiver.start();
  await receiver.stop();
  p = await startPipeline({
    env: {
      WEBHOOK_EVENTS_ENABLED: 'true',
      WEBHOOK_EVENTS_RETRY_INITIAL_MS: '500',
      WEBHOOK_EVENTS_RETRY_BACKOFF: '2',
      WEBHOOK_EVENTS_RETRY_MAX_INTERVAL_MS: '2000',
      WEBHOOK_EVENTS_RETRY_MAX_ATTEMPTS: '200',
      WEBHOOK_EVENTS_RETRY_TOTAL_MS: '300000',
      WEBHOOK_EVENTS_TIMEOUT_MS: '3000',
      WEBHOOK_EVENTS_PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
      API_KEYS: [formatApiKeyEntry(otherClient, SCOPES, otherKey), formatApiKeyEntry(soloClient, SCOPES, soloKey)].join(
        ',',
      ),
    },
  });
});
afterAll(async () => {
  await receiver.stop();
  await p?.close();
});

const idOf = (res: { body: unknown }) => String((res.body as { id: string }).id);
const asOther = (method: string, path: string) =>
  fetch(`${p.url}${path}`, { method, headers: { authorization: `Bearer ${otherKey}` } });

interface EndpointAnswer {
  id: string;
  secret?: string;
  status: string;
  eventTypes: string[];
  previousSecretExpiresAt?: string;
}
interface DeliveriesAnswer {
  deliveries: Array<{
    eventId: string;
    status: string;
    workflowId: string;
    attempts: Array<{ attempt: number; statusCode?: number; error?: string }>;
  }>;
}

let endpoint: EndpointAnswer;

describe('delivery events to a webhook endpoint', () => {
  it('registers an endpoint, showing its whsec_ secret once', async () => {
    const created = await p.request('POST', '/v1/webhook-endpoints', {
      url: receiver.url(),
      eventTypes: [...EVENT_TYPES],
      description: 'events test',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    endpoint = created.body as EndpointAnswer;
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created.headers.get('location')).toBe(`/v1/webhook-endpoints/${endpoint.id}`);
    receiver.secrets = [endpoint.secret!];
    const got = await p.request('GET', `/v1/webhook-endpoints/${endpoint.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: endpoint.id, status: 'enabled', eventTypes: [...EVENT_TYPES] });
    expect(JSON.stringify(got.body)).not.toContain('whsec_');
    const list = await p.request('GET', '/v1/webhook-endpoints');
    expect((list.body as { endpoints: EndpointAnswer[] }).endpoints.map((e) => e.id)).toEqual([endpoint.id]);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
  });

  it('delivers each event exactly once per event id after a receiver that was down comes up, each signature verified by standardwebhooks', async () => {
    const run = Math.random().toString(36).slice(2, 8);
    const sent = await p.post('/v1/notifications', {
      metadata: { order: `o-${run}` },
      deliveries: [{ channel: 'email', to: `sent-${run}@example.com`, content: { subject: 'Hi', text: 'Sent' } }],
    });
    p.sinks.setFaults([{ channel: 'email', recipient: `fail-${run}@example.com`, fault: 'smtp550' }]);
    const failed = await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: `fail-${run}@example.com`, content: { subject: 'Hi', text: 'Fails' } }],
    });
    const suppressed = await p.request('POST', '/v1/suppressions', {
      channel: 'email',
      address: `skip-${run}@example.com`,
    });
    expect(suppressed.status).toBe(201);
    const skipped = await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: `skip-${run}@example.com`, content: { subject: 'Hi', text: 'Skipped' } }],
    });
    for (const r of [sent, failed, skipped]) expect(r.status).toBe(202);
    const [sentId, failedId, skippedId] = [idOf(sent), idOf(failed), idOf(skipped)];
    await p.waitForStatus(sentId, 'sent');
    await p.waitForStatus(failedId, 'failed');
    await p.waitForStatus(skippedId, 'skipped');
    // A failed notification waiting for a retry is cancelled: its own outcome event.
    expect((await p.post(`/v1/notifications/${failedId}/cancel`, {})).status).toBe(202);
    await p.waitForStatus(failedId, 'cancelled');
    const expected = new Set([
      eventId(sentId, 'delivery.sent', 0),
      eventId(sentId, 'notification.sent'),
      eventId(failedId, 'delivery.failed', 0),
      eventId(failedId, 'notification.failed'),
      eventId(failedId, 'notification.cancelled'),
      eventId(skippedId, 'delivery.skipped', 0),
    ]);

    // While the receiver is down every delivery is pending and retried: attempts are recorded with the error.
    await eventually(
      async () => {
        const res = await p.request('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`);
        const ours = (res.body as DeliveriesAnswer).deliveries.filter((d) => expected.has(d.eventId));
        return ours.length === expected.size && ours.every((d) => d.attempts.length >= 2);
      },
      'every event attempted at least twice while the receiver is down',
      120_000,
    );
    expect(receiver.requests).toEqual([]);

    await receiver.start();
    await eventually(
      () => Promise.resolve([...expected].every((id) => receiver.distinct().has(id))),
      'every event received',
      120_000,
    );
    const res = await p.request('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    const ours = (res.body as DeliveriesAnswer).deliveries.filter((d) => expected.has(d.eventId));
    expect(ours.map((d) => d.status)).toEqual(ours.map(() => 'delivered'));
    for (const d of ours) {
      expect(d.attempts[0]?.error).toMatch(/ECONNREFUSED|refused/i);
      expect(d.attempts.at(-1)?.statusCode).toBe(204);
      expect(d.workflowId).toBe(`event-${d.eventId}-${endpoint.id}`);
    }
    // Nothing more arrives for these notifications: no event id twice, nothing unexpected.
    await new Promise((r) => setTimeout(r, 3_000));
    const ids = receiver.requests
      .map((r) => r.id)
      .filter((id) => [sentId, failedId, skippedId].some((n) => id.includes(n)));
    const distinct = new Set(ids);
    expect(distinct).toEqual(expected);
    console.log(
      `events: ${expected.size} expected, ${distinct.size} distinct webhook-ids received, ${ids.length} raw POSTs received, ` +
        `${ours.reduce((n, d) => n + d.attempts.length, 0)} attempts recorded (refused while down included)`,
    );
    expect(receiver.requests.every((r) => r.verified)).toBe(true);

    const sentEvent = JSON.parse(receiver.distinct().get(eventId(sentId, 'delivery.sent', 0))!.body) as {
      type: string;
      timestamp: string;
      data: { notificationId: string; metadata: Record<string, string>; delivery: Record<string, unknown> };
    };
    expect(sentEvent).toMatchObject({
      type: 'delivery.sent',
      data: {
        notificationId: sentId,
        metadata: { order: `o-${run}` },
        delivery: { index: 0, channel: 'email', status: 'sent', attempts: 1 },
      },
    });
    expect(sentEvent.data.delivery.providerMessageId).toEqual(expect.any(String));
    const failedEvent = JSON.parse(receiver.distinct().get(eventId(failedId, 'delivery.failed', 0))!.body) as {
      data: { delivery: { lastError?: { permanent: boolean } } };
    };
    expect(failedEvent.data.delivery.lastError?.permanent).toBe(true);
    const skippedEvent = JSON.parse(receiver.distinct().get(eventId(skippedId, 'delivery.skipped', 0))!.body) as {
      data: { delivery: { skipReason?: string } };
    };
    expect(skippedEvent.data.delivery.skipReason).toBe('suppressed');

    // The independent verifier rejects the same request under a wrong secret.
    const sample = receiver.distinct().get(eventId(sentId, 'notification.sent'))!;
    expect(new Webhook(endpoint.secret!).verify(sample.body, sample.headers)).toBeDefined();
    expect(() =>
      new Webhook('whsec_' + Buffer.from('a wrong secret of 32 bytes......').toString('base64')).verify(
        sample.body,
        sample.headers,
      ),
    ).toThrow(WebhookVerificationError);
  }, 300_000);

  it('signs with the new and the previous secret after a rotation, each accepted by the verifier', async () => {
    const rotated = await p.request('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const next = rotated.body as EndpointAnswer;
    expect(next.secret).toMatch(/^whsec_/);
    expect(next.secret).not.toBe(endpoint.secret);
    expect(next.previousSecretExpiresAt).toBeDefined();
    receiver.secrets = [next.secret!];
    const res = await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: 'rotated@example.com', content: { subject: 'Hi', text: 'Rotated' } }],
    });
    const id = eventId(idOf(res), 'notification.sent');
    await eventually(() => Promise.resolve(receiver.distinct().has(id)), 'the event after the rotation', 60_000);
    const got = receiver.distinct().get(id)!;
    expect(got.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(new Webhook(next.secret!).verify(got.body, got.headers)).toBeDefined();
    expect(new Webhook(endpoint.secret!).verify(got.body, got.headers)).toBeDefined();
  });

  it('disables an endpoint whose receiver answers 410 Gone, and sends it nothing more', async () => {
    const created = await p.request('POST', '/v1/webhook-endpoints', {
      url: receiver.url('/gone'),
      eventTypes: ['notification.sent'],
    });
    const gone = created.body as EndpointAnswer;
    await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: 'gone@example.com', content: { subject: 'Hi', text: 'Gone' } }],
    });
    await eventually(
      async () =>
        ((await p.request('GET', `/v1/webhook-endpoints/${gone.id}`)).body as EndpointAnswer).status === 'disabled',
      'the endpoint disabled',
      60_000,
    );
    const deliveries = (await p.request('GET', `/v1/webhook-endpoints/${gone.id}/deliveries`)).body as DeliveriesAnswer;
    expect(deliveries.deliveries.map((d) => [d.status, d.attempts.map((a) => a.statusCode)])).toEqual([
      ['endpoint-disabled', [410]],
    ]);
    expect((await p.request('DELETE', `/v1/webhook-endpoints/${gone.id}`)).status).toBe(204);
  });

  it('enables an endpoint a 410 disabled again on request, and the events emitted after that reach it', async () => {
    const created = (
      await p.request('POST', '/v1/webhook-endpoints', {
        url: receiver.url('/gone-once'),
        eventTypes: ['notification.sent'],
      })
    ).body as EndpointAnswer;
    receiver.secrets.push(created.secret!);
    const path = `/v1/webhook-endpoints/${created.id}`;
    await p.post('/v1/notifications', {
      deliveries: [{ channel: 'email', to: 'back@example.com', content: { subject: 'Hi', text: 'Before' } }],
    });
    await eventually(
      async () => ((await p.request('GET', path)).body as EndpointAnswer).status === 'disabled',
      'the endpoint disabled by its 410',
      60_000,
    );

    const enabled = await p.request('POST', `${path}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id: created.id, status: 'enabled' });
    expect(enabled.body).not.toHaveProperty('disabledReason');
    expect(enabled.body).not.toHaveProperty('secret');

    const after = idOf(
      await p.post('/v1/notifications', {
        deliveries: [{ channel: 'email', to: 'back@example.com', content: { subject: 'Hi', text: 'After' } }],
      }),
    );
    await eventually(
      () => receiver.receivedVerified('/gone-once', eventId(after, 'notification.sent')),
      'the notification.sent event of the notification sent after enabling',
      60_000,
    );
    expect(((await p.request('GET', path)).body as EndpointAnswer).status).toBe('enabled');
    expect((await p.request('DELETE', path)).status).toBe(204);
  });
});

describe('webhook endpoint API: bad input and ownership', () => {
  it('refuses internal URLs (SSRF rules of the webhook channel) and unknown event types with 400 naming them', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.7/hook', 'http://[fd00::1]/hook']) {
      const res = await p.request('POST', '/v1/webhook-endpoints', { url, eventTypes: ['notification.sent'] });
      expect(res.status, url).toBe(400);
      expect(res.body).toMatchObject({ code: 'URL_NOT_ALLOWED', issues: [{ path: 'url' }] });
    }
    const unknown = await p.request('POST', '/v1/webhook-endpoints', {
      url: receiver.url(),
      eventTypes: ['notification.sent', 'notification.exploded'],
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('unknown event type \\"notification.exploded\\"');
    expect((unknown.body as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('eventTypes.1');
    const noScheme = await p.request('POST', '/v1/webhook-endpoints', { url: 'ftp://example.com/x', eventTypes: [] });
    expect(noScheme.status).toBe(400);
  });

  it("never shows, rotates, enables or deletes another client's endpoint (404 like an unknown id)", async () => {
    const list = (await (await asOther('GET', '/v1/webhook-endpoints')).json()) as { endpoints: EndpointAnswer[] };
    expect(list.endpoints).toEqual([]);
    for (const [method, path] of [
      ['GET', `/v1/webhook-endpoints/${endpoint.id}`],
      ['GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`],
      ['POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`],
      ['POST', `/v1/webhook-endpoints/${endpoint.id}/enable`],
      ['DELETE', `/v1/webhook-endpoints/${endpoint.id}`],
    ] as const) {
      const res = await asOther(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.text()).not.toContain('whsec_');
    }
    expect((await p.request('GET', `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(200);
    expect((await p.request('DELETE', `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(204);
    expect((await p.request('GET', `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(404);
  });
});

describe('delivery events only for clients with an enabled endpoint', () => {
  const postAs = async (key: string, text: string): Promise<string> => {
    const res = await fetch(`${p.url}/v1/notifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        deliveries: [{ channel: 'email', to: 'other@example.com', content: { subject: 'Hi', text } }],
      }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const postAsOther = (text: string) => postAs(otherKey, text);
  const asSolo = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${p.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${soloKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as EndpointAnswer };
  };
  /** The activity types the notification's workflow scheduled, once it completed. */
  const activitiesOf = async (id: string): Promise<string[]> => {
    const handle = p.client.workflow.getHandle(id);
    // The other client's notification is not visible to the main key's status route: wait for ingest's start.
    await eventually(
      () =>
        handle.describe().then(
          () => true,
          () => false,
        ),
      `workflow ${id} started`,
      60_000,
    );
    await handle.result();
    const history = await handle.fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
      return name === undefined || name === null ? [] : [name];
    });
  };

  it('runs the notification of a client without an endpoint without the event activity, and with it once the client registers one', async () => {
    const before = await postAsOther('No endpoint yet');
    expect(await activitiesOf(before)).toEqual(['deliver']);

    const createdRes = await fetch(`${p.url}/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${otherKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url('/other'), eventTypes: ['notification.sent'] }),
    });
    expect(createdRes.status).toBe(201);
    const created = (await createdRes.json()) as EndpointAnswer;
    receiver.secrets.push(created.secret!);

    const after = await postAsOther('Endpoint registered');
    expect((await activitiesOf(after)).sort()).toEqual(['deliver', 'emitEvents']);
    await eventually(
      () => receiver.receivedVerified('/other', eventId(after, 'notification.sent')),
      "the other client's notification.sent event",
      60_000,
    );
    // No event of the notification accepted before the endpoint existed was emitted.
    expect(receiver.requests.some((r) => r.id === eventId(before, 'notification.sent'))).toBe(false);

    const deleted = await asOther('DELETE', `/v1/webhook-endpoints/${created.id}`);
    expect(deleted.status).toBe(204);
    const afterDelete = await postAsOther('Endpoint deleted');
    expect(await activitiesOf(afterDelete)).toEqual(['deliver']);
  });

  it('turns events off for a client whose only endpoint a 410 disabled, and on again for what it sends after enabling it', async () => {
    const created = await asSolo('POST', '/v1/webhook-endpoints', {
      url: receiver.url('/solo-gone-once'),
      eventTypes: ['notification.sent'],
    });
    expect(created.status).toBe(201);
    receiver.secrets.push(created.body.secret!);
    const path = `/v1/webhook-endpoints/${created.body.id}`;

    const first = await postAs(soloKey, 'Answered 410');
    expect((await activitiesOf(first)).sort()).toEqual(['deliver', 'emitEvents']);
    await eventually(
      async () => (await asSolo('GET', path)).body.status === 'disabled',
      'the only endpoint disabled by its 410',
      60_000,
    );

    // Once the gateway's answer is older than its TTL, the next submission refreshes it; the one after that sees
    // "no enabled endpoint" (the worker, another process, disabled it).
    let withoutEvents: string | undefined;
    for (let attempt = 0; attempt < 10 && withoutEvents === undefined; attempt++) {
      await new Promise((r) => setTimeout(r, PRESENCE_TTL_MS + 200));
      const id = await postAs(soloKey, `Disabled, attempt ${attempt}`);
      if ((await activitiesOf(id)).length === 1) withoutEvents = id;
    }
    expect(withoutEvents, 'a notification run without the event activity while the endpoint is disabled').toBeDefined();
    expect(await activitiesOf(withoutEvents!)).toEqual(['deliver']);

    const enabled = await asSolo('POST', `${path}/enable`);
    expect(enabled.status).toBe(200);
    // Right after enabling, within the TTL of the "no endpoint" answer: the enable route itself turned events on.
    const after = await postAs(soloKey, 'Enabled again');
    expect((await activitiesOf(after)).sort()).toEqual(['deliver', 'emitEvents']);
    await eventually(
      () => receiver.receivedVerified('/solo-gone-once', eventId(after, 'notification.sent')),
      'the notification.sent event of the notification sent after enabling',
      60_000,
    );
    expect((await asSolo('DELETE', path)).status).toBe(204);
  });
});
