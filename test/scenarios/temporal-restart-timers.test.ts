import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import type { RunningSinks } from '../../dev/sinks/index.js';
import { buildWorkflowInput } from '../../src/ingest/workflow-input.js';
import type { NotificationState } from '../../src/shared/notification.js';
import { testEnvironment } from '../helpers/context.js';
import type { PrivateTemporal, ScenarioTemporal } from './helpers.js';
import {
  connectScenarioTemporal,
  envelopeRecord,
  newId,
  scenarioConfig,
  scenarioEnv,
  sleep,
  smsRequest,
  spawnEntry,
  startPrivateTemporal,
  startScenarioSinks,
  stopAllChildren,
} from './helpers.js';

/**
 * Scenario 8: a private Temporal server (persistent SQLite db) is stopped while notification workflows sleep until
 * their `sendAt`, stays down past that time, and is restarted. The durable timers still fire: every notification is
 * sent once, not before its `sendAt`, by the same worker process, which survives the outage.
 */
const t = testEnvironment();
let privateTemporal: PrivateTemporal;
let temporal: ScenarioTemporal | undefined;
let sinks: RunningSinks;
let config: AppConfig;
let env: Record<string, string>;

beforeAll(async () => {
  privateTemporal = await startPrivateTemporal('timers');
  sinks = await startScenarioSinks();
  env = scenarioEnv({ ...t, temporalAddress: privateTemporal.address, namespace: privateTemporal.namespace }, sinks);
  config = scenarioConfig(env);
});
afterAll(async () => {
  await stopAllChildren();
  await temporal?.close();
  await sinks?.close();
  await privateTemporal?.dispose();
});

describe('Temporal server restart while workflows sleep until sendAt', () => {
  it('fires every scheduled notification after the restart, once and not early', async () => {
    const worker = spawnEntry('src/workers/main.ts', env, ['--workflows', '--channels', 'sms'], 'worker');
    await worker.waitForLine(/workers running/, 90_000);
    temporal = await connectScenarioTemporal(config);
    const sendAt = Date.now() + 6_000;
    const ids = Array.from({ length: 3 }, () => newId());
    for (const [i, id] of ids.entries()) {
      const record = envelopeRecord(id, smsRequest(`+141555508${10 + i}`, { sendAt: new Date(sendAt).toISOString() }));
      const envelope = JSON.parse(record.value) as Parameters<typeof buildWorkflowInput>[0];
      await temporal.notifications.start(buildWorkflowInput(envelope, config), {
        bodyHash: envelope.bodyHash,
        clientId: envelope.clientId,
      });
    }
    for (const id of ids) {
      const state = await temporal.client.workflow.getHandle(id).query<NotificationState>('status');
      expect(state.status).toBe('scheduled');
    }
    await temporal.close();
    temporal = undefined;

    await privateTemporal.stop();
    // Down across sendAt: the timers come due while the server is away.
    await sleep(Math.max(0, sendAt - Date.now()) + 2_000);
    expect(sinks.received()).toHaveLength(0);
    await privateTemporal.start();

    temporal = await connectScenarioTemporal(config);
    for (const id of ids) {
      const state = (await temporal.client.workflow.getHandle(id).result()) as NotificationState;
      expect(state.status).toBe('sent');
      const received = sinks.received({ notificationId: id });
      expect(received).toHaveLength(1);
      expect(received[0]?.receivedAt).toBeGreaterThanOrEqual(sendAt);
    }
    expect(worker.alive()).toBe(true);
  });
});
