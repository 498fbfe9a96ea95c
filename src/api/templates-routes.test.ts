import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testLogger } from '../../test/helpers/kafka.js';
import { loadConfig } from '../config/config.js';
import type { OutgoingMessage } from '../kafka/batching-producer.js';
import { loadTemplateStore } from '../templates/index.js';
import { buildApp } from './app.js';

/** The gateway's template check and routes, with the shipped templates plus an SMS-only one; Kafka is a fake. */
const written: OutgoingMessage[] = [];
let app: FastifyInstance;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'notify-gw-templates-'));
  cpSync('templates', dir, { recursive: true });
  cpSync(join(dir, 'welcome'), join(dir, 'otp'), { recursive: true, filter: (p) => !p.includes('.liquid') });
  writeFileSync(join(dir, 'otp', 'sms.liquid'), 'Your code is {{ code }}');
  app = await buildApp({
    config: loadConfig({}),
    logger: testLogger,
    auth: { disabled: true },
    producer: {
      isConnected: () => true,
      send: (m) => {
        written.push(m);
        return Promise.resolve();
      },
    },
    notifications: {
      lookup: () => Promise.resolve(undefined),
      memo: () => Promise.resolve(undefined),
      cancel: () => Promise.resolve(),
      retry: () => Promise.resolve(),
    },
    templates: await loadTemplateStore({ dir, defaultLocale: 'en' }),
  });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  written.length = 0;
});

const data = { user: { name: 'Ada' }, product: 'Acme', signInUrl: 'https://acme.example/in' };
const post = (url: string, body: unknown) =>
  app.inject({ method: 'POST', url, payload: body as object, headers: { 'content-type': 'application/json' } });
const submit = (body: unknown) => post('/v1/notifications', body);
const issues = (res: { json: () => unknown }) => (res.json() as { issues?: Array<{ path: string }> }).issues ?? [];

describe('POST /v1/notifications with a template', () => {
  it('accepts template + data without content and writes both to the Kafka record', async () => {
    const res = await submit({
      template: 'welcome',
      data,
      deliveries: [
        { channel: 'email', to: 'ada@example.com' },
        { channel: 'sms', to: '+14155550123' },
      ],
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(written).toHaveLength(1);
    const record = JSON.parse(String(written[0]?.value)) as { request: { template: string; data: unknown } };
    expect(record.request.template).toBe('welcome');
    expect(record.request.data).toEqual(data);
  });

  it('answers 400 UNKNOWN_TEMPLATE naming the template field', async () => {
    const res = await submit({ template: 'nope', data, deliveries: [{ channel: 'sms', to: '+14155550123' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'UNKNOWN_TEMPLATE' });
    expect(res.json<{ message: string }>().message).toContain('"nope"');
    expect(issues(res).map((i) => i.path)).toEqual(['template']);
    expect(written).toHaveLength(0);
  });

  it('answers 400 TEMPLATE_CHANNEL_MISSING naming the delivery whose channel the template has no file for', async () => {
    const res = await submit({
      template: 'otp',
      data: { code: '123456' },
      deliveries: [
        { channel: 'sms', to: '+14155550123' },
        { channel: 'email', to: 'ada@example.com' },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'TEMPLATE_CHANNEL_MISSING' });
    expect(issues(res).map((i) => i.path)).toEqual(['deliveries.1.channel']);
  });

  it('answers 400 TEMPLATE_VARIABLE_MISSING naming each variable data lacks', async () => {
    const res = await submit({
      template: 'welcome',
      data: { user: {}, product: 'Acme' },
      deliveries: [{ channel: 'sms', to: '+14155550123' }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'TEMPLATE_VARIABLE_MISSING' });
    expect(res.json<{ message: string }>().message).toContain('data.user.name');
    expect(issues(res).map((i) => i.path)).toEqual(['data.signInUrl', 'data.user.name']);
    expect(written).toHaveLength(0);
  });

  it('refuses content next to a template, a delivery without either, data without a template and "$template" in content', async () => {
    const both = await submit({
      template: 'welcome',
      data,
      deliveries: [{ channel: 'sms', to: '+14155550123', content: { body: 'x' } }],
    });
    expect(both.statusCode).toBe(400);
    expect(issues(both).map((i) => i.path)).toContain('deliveries.0.content');
    const neither = await submit({ deliveries: [{ channel: 'sms', to: '+14155550123' }] });
    expect(neither.statusCode).toBe(400);
    expect(issues(neither).map((i) => i.path)).toContain('deliveries.0.content');
    const dataOnly = await submit({
      data,
      deliveries: [{ channel: 'sms', to: '+14155550123', content: { body: 'x' } }],
    });
    expect(issues(dataOnly).map((i) => i.path)).toContain('data');
    const reserved = await submit({
      deliveries: [
        { channel: 'webhook', to: { url: 'https://h.example/x' }, content: { $template: { name: 'welcome', data } } },
      ],
    });
    expect(reserved.statusCode).toBe(400);
    expect(issues(reserved).map((i) => i.path)).toContain('deliveries.0.content.$template');
    expect(written).toHaveLength(0);
  });

  it('checks every batch item: one with a missing variable is that item’s 400, the other is accepted', async () => {
    const res = await post('/v1/notifications/batch', {
      notifications: [
        { template: 'welcome', data, deliveries: [{ channel: 'sms', to: '+14155550123' }] },
        { template: 'welcome', data: { product: 'Acme' }, deliveries: [{ channel: 'sms', to: '+14155550123' }] },
      ],
    });
    expect(res.statusCode).toBe(207);
    const body = res.json<{
      results: Array<{ status: number; error?: { code: string; issues: Array<{ path: string }> } }>;
    }>();
    expect(body.results.map((r) => r.status)).toEqual([202, 400]);
    expect(body.results[1]?.error?.code).toBe('TEMPLATE_VARIABLE_MISSING');
    expect(body.results[1]?.error?.issues.map((i) => i.path)).toEqual([
      'notifications.1.data.signInUrl',
      'notifications.1.data.user.name',
    ]);
  });
});

describe('GET /v1/templates and POST /v1/templates/{name}/preview', () => {
  it('requires from data the list a template loops over, never the loop variable or forloop', async () => {
    // comment-digest loops `{% for item in items %}{{ item.author }}{% unless forloop.last %}…` (SMS and MJML).
    const deliveries = [
      { channel: 'sms', to: '+14155550123' },
      { channel: 'email', to: 'ada@example.com' },
    ];
    const items = [{ author: 'Ada', post: 'Launch', text: 'Nice' }];
    const accepted = await submit({ template: 'comment-digest', data: { items, count: 1 }, deliveries });
    expect(accepted.statusCode).toBe(202);
    const missing = await submit({ template: 'comment-digest', data: { count: 1 }, deliveries });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'TEMPLATE_VARIABLE_MISSING' });
    expect(issues(missing).map((i) => i.path)).toEqual(['data.items', 'data.items[0].post']);
    expect(written).toHaveLength(1);
  });

  it('checks a digested notification against its digest: items, count and digest come from the digest, not from data', async () => {
    const body = {
      template: 'comment-digest',
      data: { author: 'Ada', post: 'Launch', text: 'Nice' },
      recipient: 'r1',
      deliveries: [{ channel: 'sms', to: '+14155550123' }],
    };
    const digested = await submit({ ...body, digest: { key: 'comments', window: '10m' } });
    expect(digested.statusCode).toBe(202);
    // The same template without a digest has no list to read: data lacks items and count.
    const alone = await submit(body);
    expect(alone.statusCode).toBe(400);
    expect(issues(alone).map((i) => i.path)).toEqual(['data.count', 'data.items']);
    expect(written).toHaveLength(1);
  });

  it('lists the templates with channels, locales, required variables and version', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/templates' });
    expect(res.statusCode).toBe(200);
    const { templates } = res.json<{ templates: Array<{ name: string; version: string }> }>();
    expect(templates.map((t) => t.name)).toEqual(['comment-digest', 'otp', 'welcome']);
    expect(templates[2]).toMatchObject({
      channels: ['email', 'sms', 'slack', 'webhook'],
      locales: ['en', 'de'],
      requiredVariables: ['product', 'signInUrl', 'user.name'],
    });
  });

  it('renders every channel without sending, in the asked locale', async () => {
    const res = await post('/v1/templates/welcome/preview', { data, locale: 'de-DE' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{
      version: string;
      rendered: Record<string, { locale: string; content: Record<string, string> }>;
    }>();
    expect(Object.keys(body.rendered).sort()).toEqual(['email', 'slack', 'sms', 'webhook']);
    expect(body.rendered.email?.locale).toBe('de');
    expect(body.rendered.email?.content.subject).toBe('Willkommen bei Acme, Ada');
    expect(body.rendered.email?.content.html).toContain('Hallo Ada,');
    expect(body.rendered.email?.content.text).toContain('Hallo Ada,');
    expect(body.rendered.slack?.locale).toBe('en');
    expect(written).toHaveLength(0);
  });

  it('answers 404 for an unknown template and 400 naming the variables data lacks', async () => {
    expect((await post('/v1/templates/nope/preview', { data })).statusCode).toBe(404);
    const res = await post('/v1/templates/welcome/preview', { data: { product: 'Acme' }, channels: ['sms'] });
    expect(res.statusCode).toBe(400);
    expect(issues(res).map((i) => i.path)).toEqual(['data.signInUrl', 'data.user.name']);
    const channel = await post('/v1/templates/otp/preview', { data: { code: 1 }, channels: ['email'] });
    expect(channel.statusCode).toBe(400);
    expect(issues(channel).map((i) => i.path)).toEqual(['channels.0']);
  });
});
