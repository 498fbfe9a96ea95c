import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec } from '../src/crypto/payload-codec.js';
import { readTopic } from './helpers/kafka.js';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline } from './helpers/pipeline.js';

/**
 * Templates end to end: HTTP → Kafka → ingest → Temporal → the delivery activity renders `templates/welcome` → the
 * dev sinks (real SMTP with mailparser, the Twilio-compatible HTTP sink), against the real servers.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p?.close();
});

/** A value that appears only in template data, to search Kafka and Temporal for. */
const SENTINEL = 'Zebediah-7f3a';
const data = { user: { name: SENTINEL }, product: 'Acme', signInUrl: 'https://acme.example/in?a=1&b=2' };
const idOf = (res: { body: unknown }) => String((res.body as { id: string }).id);
/** The one message the sinks received for a notification on a channel (the notification is `sent` already). */
function one(notificationId: string, channel: string) {
  const got = p.sinks.received({ notificationId, channel });
  expect(got, `${channel} messages of ${notificationId}`).toHaveLength(1);
  return got[0]!;
}

/** The `deliver` activity results recorded in the workflow's history, decrypted with the pipeline's key. */
async function deliverResults(id: string): Promise<Array<Record<string, unknown>>> {
  const history = await p.client.workflowService.getWorkflowExecutionHistory({
    namespace: p.config.TEMPORAL_NAMESPACE,
    execution: { workflowId: id },
  });
  const codec = new AesGcmPayloadCodec(p.keyring);
  const out: Array<Record<string, unknown>> = [];
  for (const e of history.history?.events ?? []) {
    const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (payload === undefined) continue;
    const [decoded] = await codec.decode([
      { metadata: payload.metadata ?? {}, data: payload.data ?? new Uint8Array() },
    ]);
    out.push(JSON.parse(Buffer.from(decoded?.data ?? new Uint8Array()).toString()) as Record<string, unknown>);
  }
  return out;
}

describe('templated notifications through Kafka, Temporal and the dev sinks', () => {
  let id = '';
  let version = '';

  it('sends the rendered email (HTML and plain-text parts) and SMS from one template', async () => {
    const list = await p.request('GET', '/v1/templates');
    version = (list.body as { templates: Array<{ name: string; version: string }> }).templates.find(
      (t) => t.name === 'welcome',
    )!.version;
    const res = await p.post('/v1/notifications', {
      template: 'welcome',
      data,
      deliveries: [
        { channel: 'email', to: 'ada@example.com' },
        { channel: 'sms', to: '+14155550123' },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    id = idOf(res);
    const sent = await p.waitForStatus(id, 'sent');
    expect(sent.deliveries.map((d) => d.status)).toEqual(['sent', 'sent']);

    const email = one(id, 'email');
    const details = email.details as { subject: string; text: string; html: string };
    expect(details.subject).toBe(`Welcome to Acme, ${SENTINEL}`);
    expect(details.html).toMatch(/^<!doctype html>/i);
    expect(details.html).toContain(`Hi ${SENTINEL},`);
    expect(details.html).toContain('href="https://acme.example/in?a=1&amp;b=2"');
    expect(details.text).toContain(`Hi ${SENTINEL},`);
    expect(details.text).toContain('Sign in [https://acme.example/in?a=1&b=2]');
    const sms = one(id, 'sms');
    expect(sms.summary).toBe(`Hi ${SENTINEL}, your Acme account is ready: https://acme.example/in?a=1&b=2`);
  });

  it('records the template version each delivery was rendered from in the workflow history', async () => {
    const results = await deliverResults(id);
    expect(results).toHaveLength(2);
    for (const r of results) expect(r.template).toEqual({ name: 'welcome', version, locale: 'en' });
  });

  it('keeps template data encrypted in the Kafka record and in the workflow input', async () => {
    const records = await readTopic(p.config.KAFKA_BROKERS ?? [], p.config.KAFKA_TOPIC, 1);
    const ours = records.filter((r) => r.key?.toString() === id);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.value?.toString()).not.toContain(SENTINEL);
    expect(JSON.parse(ours[0]?.value?.toString() ?? '{}')).toHaveProperty('sealedRequest.kid');
    const history = await p.client.workflowService.getWorkflowExecutionHistory({
      namespace: p.config.TEMPORAL_NAMESPACE,
      execution: { workflowId: id },
    });
    expect(Buffer.from(JSON.stringify(history.toJSON())).toString()).not.toContain(SENTINEL);
  });

  it("renders the recipient's locale variant, resolved from the profile when the delivery runs", async () => {
    const put = await p.request('PUT', '/v1/recipients/templ-de', {
      addresses: { sms: '+14155550124', email: 'de@example.com' },
      locale: 'de-DE',
    });
    expect(put.status).toBeLessThan(300);
    const res = await p.post('/v1/notifications', {
      recipient: 'templ-de',
      template: 'welcome',
      data,
      deliveries: [{ channel: 'sms' }, { channel: 'email' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const deId = idOf(res);
    await p.waitForStatus(deId, 'sent');
    expect(one(deId, 'sms').summary).toBe(
      `Hallo ${SENTINEL}, dein Acme-Konto ist bereit: https://acme.example/in?a=1&b=2`,
    );
    const email = one(deId, 'email');
    expect((email.details as { subject: string }).subject).toBe(`Willkommen bei Acme, ${SENTINEL}`);
    const results = await deliverResults(deId);
    expect(results.map((r) => (r.template as { locale: string }).locale)).toEqual(['de', 'de']);
  });

  it('answers 400 at submit for a variable data lacks, and nothing is sent', async () => {
    const res = await p.post('/v1/notifications', {
      template: 'welcome',
      data: { product: 'Acme', signInUrl: 'https://acme.example' },
      deliveries: [{ channel: 'sms', to: '+14155550125' }],
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'TEMPLATE_VARIABLE_MISSING',
      issues: [{ path: 'data.user.name', message: 'template "welcome" requires data.user.name' }],
    });
    expect(p.sinks.received((m) => m.to === '+14155550125')).toEqual([]);
  });
});

describe('a template that does not compile', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'notify-broken-templates-'));
    mkdirSync(join(dir, 'templates', 'broken'), { recursive: true });
    writeFileSync(join(dir, 'templates', 'broken', 'sms.liquid'), 'Hi {{ user.name }}\n{% if user.vip %}VIP\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs an entry point with the broken folder; resolves with its exit code and stderr. */
  const run = (entry: string, args: string[] = [], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
        env: { ...process.env, TEMPLATES_DIR: join(dir, 'templates'), NOTIFY_HOME: join(dir, 'home'), ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  it('stops the channel worker at start, naming the file and the line', async () => {
    const { code, stderr } = await run('src/workers/main.ts', ['--channels', 'sms']);
    expect(code).toBe(1);
    expect(stderr).toContain(`${join(dir, 'templates', 'broken', 'sms.liquid')}:2`);
    expect(stderr).toContain('not closed');
  });

  it('stops the gateway at start, naming the file and the line', async () => {
    // Without API keys the gateway refuses to start for another reason first; keys are not what this test is about.
    const { code, stderr } = await run('src/api/main.ts', [], { AUTH_DISABLED: 'true' });
    expect(code).toBe(1);
    expect(stderr).toContain(`${join(dir, 'templates', 'broken', 'sms.liquid')}:2`);
  });
});
