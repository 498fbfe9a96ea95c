import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, eventDeliveryWorkflowId, eventId, retrySchedule } from '../shared/events.js';
import { generateEndpointSecret, standardWebhookHeaders } from './signing.js';
import { endpointUrlProblem } from './url-check.js';

/** Signing is checked by the official `standardwebhooks` package, never by notify's own code. */
const body = JSON.stringify({ type: 'notification.sent', timestamp: '2026-12-02T03:00:00.000Z', data: { n: 1 } });

describe('endpoint secrets and Standard Webhooks signatures', () => {
  it('creates whsec_ secrets of 32 random bytes, different every time', () => {
    const a = generateEndpointSecret();
    const b = generateEndpointSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('signs so that the standardwebhooks verifier accepts the message with the right secret', () => {
    const secret = generateEndpointSecret();
    const headers = standardWebhookHeaders([secret], 'evt_1', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('is rejected by the verifier under a wrong secret, a changed body or a changed id', () => {
    const secret = generateEndpointSecret();
    const headers = standardWebhookHeaders([secret], 'evt_1', Math.floor(Date.now() / 1000), body);
    expect(() => new Webhook(generateEndpointSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body.replace('1', '2'), headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'evt_2' })).toThrow(
      WebhookVerificationError,
    );
  });

  it('carries one signature per secret during a rotation, each accepted by a receiver holding that secret', () => {
    const next = generateEndpointSecret();
    const previous = generateEndpointSecret();
    const headers = standardWebhookHeaders([next, previous], 'evt_1', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(next).verify(body, headers)).toBeDefined();
    expect(new Webhook(previous).verify(body, headers)).toBeDefined();
    expect(() => new Webhook(generateEndpointSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });
});

describe('event ids and the retry schedule', () => {
  it('derives the same id from the same notification, type, delivery and round, and different ids otherwise', () => {
    expect(eventId('ntf_a', 'delivery.sent', 0)).toBe(eventId('ntf_a', 'delivery.sent', 0));
    const ids = new Set([
      ...EVENT_TYPES.map((t) => eventId('ntf_a', t)),
      eventId('ntf_a', 'delivery.sent', 0),
      eventId('ntf_a', 'delivery.sent', 1),
      eventId('ntf_a', 'delivery.failed', 0, 1),
      eventId('ntf_b', 'delivery.sent', 0),
    ]);
    expect(ids.size).toBe(EVENT_TYPES.length + 4);
    expect(eventDeliveryWorkflowId(eventId('ntf_a', 'notification.sent'), 'we_1')).toBe(
      'event-evt_ntf_a.notification.sent-we_1',
    );
  });

  it('spaces attempts exponentially, capped by the maximum interval, within the total bound', () => {
    const hour = 3600_000;
    const defaults = {
      initialIntervalMs: 5_000,
      backoffCoefficient: 5,
      maximumIntervalMs: 10 * hour,
      maximumAttempts: 20,
      totalMs: 24 * hour,
      attemptTimeoutMs: 10_000,
    };
    expect(retrySchedule(defaults)).toEqual([0, 5_000, 30_000, 155_000, 780_000, 3_905_000, 19_530_000, 55_530_000]);
    expect(retrySchedule({ ...defaults, maximumAttempts: 3 })).toEqual([0, 5_000, 30_000]);
    expect(retrySchedule({ ...defaults, totalMs: 60_000 })).toEqual([0, 5_000, 30_000]);
  });
});

describe('endpoint URL check (the webhook channel SSRF rules)', () => {
  const rules = { allowedNetworks: [], allowedHosts: [] };
  const resolvesTo = (address: string) => () => Promise.resolve([{ address }]);

  it('refuses loopback, link-local metadata, private and IPv4-mapped addresses, naming the kind', async () => {
    expect(await endpointUrlProblem('http://127.0.0.1:8080/hook', rules)).toMatch(/loopback/);
    expect(await endpointUrlProblem('http://169.254.169.254/latest/meta-data', rules)).toMatch(/link-local/);
    expect(await endpointUrlProblem('http://[::ffff:10.0.0.1]/hook', rules)).toMatch(/private/);
    expect(await endpointUrlProblem('https://hooks.example.com/x', rules, resolvesTo('192.168.1.9'))).toMatch(
      /private .*hooks\.example\.com resolves to it/,
    );
  });

  it('accepts public addresses, and internal ones listed in WEBHOOK_ALLOWED_NETWORKS', async () => {
    expect(await endpointUrlProblem('https://hooks.example.com/x', rules, resolvesTo('93.184.215.14'))).toBeUndefined();
    expect(
      await endpointUrlProblem('http://127.0.0.1:8080/hook', { allowedNetworks: ['127.0.0.0/8'], allowedHosts: [] }),
    ).toBeUndefined();
  });

  it('refuses hosts outside WEBHOOK_ALLOWED_HOSTS and names that do not resolve', async () => {
    expect(
      await endpointUrlProblem('https://evil.example.net/x', {
        allowedNetworks: [],
        allowedHosts: ['*.example.com'],
      }),
    ).toMatch(/WEBHOOK_ALLOWED_HOSTS/);
    const fail = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    expect(await endpointUrlProblem('https://nowhere.invalid/x', rules, fail)).toMatch(
      /does not resolve \(ENOTFOUND\)/,
    );
  });
});
