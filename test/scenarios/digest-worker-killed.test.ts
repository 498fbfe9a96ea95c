import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import type { RunningSinks } from '../../dev/sinks/index.js';
import { createPool, migrate } from '../../src/db/index.js';
import { buildWorkflowInput } from '../../src/ingest/workflow-input.js';
import { RecipientStore } from '../../src/recipients/store.js';
import { digestWorkflowId } from '../../src/shared/digest.js';
import type { NotificationState } from '../../src/shared/notification.js';
import type { DigestView } from '../../src/workflows/digest-workflow.js';
import { testEnvironment } from '../helpers/context.js';
import type { ChildHandle, ScenarioTemporal } from './helpers.js';
import {
  connectScenarioTemporal,
  envelopeRecord,
  eventually,
  newId,
  scenarioConfig,
  scenarioEnv,
  smsRequest,
  spawnEntry,
  startScenarioSinks,
  stopAllChildren,
  uniqueLabel,
} from './helpers.js';

/**
 * The workflow worker process (notification and digest workflows) is SIGKILLed while a digest window is open:
 * after a restart the window still closes once and its single send holds every notification — those signalled
 * before the kill and those that arrived while no workflow worker ran.
 */
const t = testEnvironment();
let sinks: RunningSinks;
let temporal: ScenarioTemporal;
let env: Record<string, string>;
let config: AppConfig;
const pool = createPool(inject('databaseUrl'), { max: 2 });

beforeAll(async () => {
  sinks = await startScenarioSinks();
  env = scenarioEnv(t, sinks);
  config = scenarioConfig(env);
  temporal = await connectScenarioTemporal(config);
  await migrate(pool);
});
afterAll(async () => {
  await stopAllChildren();
  await temporal?.close();
  await sinks?.close();
  await pool.end();
});

async function workflowWorker(name: string): Promise<ChildHandle> {
  const worker = spawnEntry('src/workers/main.ts', env, ['--workflows'], name);
  await worker.waitForLine(/workers running/, 120_000);
  return worker;
}

/** Starts a digested SMS notification the way ingest does (same input builder, same start options). */
async function startDigested(recipient: string, body: string): Promise<string> {
  const id = newId();
  const request = smsRequest('+14155550801', {
    recipient,
    digest: { key: 'orders', window: '60s' },
    deliveries: [{ channel: 'sms', content: { body } }],
  });
  const record = envelopeRecord(id, request);
  const envelope = JSON.parse(record.value) as Parameters<typeof buildWorkflowInput>[0];
  await temporal.notifications.start(buildWorkflowInput(envelope, config), {
    bodyHash: envelope.bodyHash,
    clientId: envelope.clientId,
  });
  return id;
}

describe('workflow worker killed while a digest window is open', () => {
  it('still sends the window exactly once with every notification after a restart', async () => {
    const recipient = uniqueLabel('dig');
    await new RecipientStore(pool).put('anonymous', recipient, {
      addresses: { sms: '+14155550801' },
      properties: {},
    });
    spawnEntry('src/workers/main.ts', env, ['--channels', 'sms'], 'sms-worker');
    const first = await workflowWorker('workflow-worker-1');
    const before = await Promise.all([0, 1, 2, 3, 4].map((i) => startDigested(recipient, `order ${i} shipped`)));
    const digest = temporal.client.workflow.getHandle(
      digestWorkflowId(config.TEMPORAL_TASK_QUEUE_PREFIX, 'anonymous', recipient, 'orders'),
    );
    await eventually(
      async () => (await digest.query<DigestView>('status').catch(() => undefined))?.items.length === 5,
      'the open window to hold the first five notifications',
      60_000,
    );
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // Accepted while no workflow worker runs: they join when one is back.
    const during = await Promise.all([5, 6, 7].map((i) => startDigested(recipient, `order ${i} shipped`)));
    await workflowWorker('workflow-worker-2');

    const ids = [...before, ...during];
    const finals = await Promise.all(
      ids.map(async (id) => (await temporal.client.workflow.getHandle(id).result()) as NotificationState),
    );
    const sendIds = new Set(finals.map((s) => s.digestedInto));
    expect(sendIds.size).toBe(1);
    const sendId = [...sendIds][0] ?? '';
    expect(finals.map((s) => s.status)).toEqual(ids.map(() => 'digested'));
    const received = sinks.received((m) => m.channel === 'sms' && m.to === '+14155550801');
    expect(received).toHaveLength(1);
    expect(received[0]?.notificationId).toBe(sendId);
    for (let i = 0; i < 8; i++) expect(received[0]?.summary).toContain(`order ${i} shipped`);
    expect(received[0]?.summary.split('\n')).toHaveLength(8);
    const view = await digest.query<DigestView>('status');
    expect(view).toMatchObject({ phase: 'idle', windowsSent: 1, next: [] });
  }, 300_000);
});
