import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import type { RunningSinks } from '../../dev/sinks/index.js';
import { buildWorkflowInput } from '../../src/ingest/workflow-input.js';
import type { NotificationState } from '../../src/shared/notification.js';
import { testEnvironment } from '../helpers/context.js';
import type { DelayingProxy, ScenarioTemporal, ScenarioWorkers } from './helpers.js';
import {
  connectScenarioTemporal,
  envelopeRecord,
  newId,
  scenarioConfig,
  scenarioEnv,
  smsRequest,
  spawnEntry,
  startDelayingProxy,
  startScenarioSinks,
  startScenarioWorkers,
  stopAllChildren,
} from './helpers.js';

/**
 * Scenario 7: SIGTERM reaches the SMS channel worker while a send is in flight and the provider takes 3 s to answer.
 * The worker stops polling but lets the send finish within its grace time (WORKER_SHUTDOWN_GRACE_MS = 10 s): the
 * message is delivered once, the activity completes on its first attempt, nothing is retried, the process exits 0.
 */
const t = testEnvironment();
let sinks: RunningSinks;
let proxy: DelayingProxy;
let temporal: ScenarioTemporal;
let workflows: ScenarioWorkers | undefined;
let env: Record<string, string>;
let config: AppConfig;

beforeAll(async () => {
  sinks = await startScenarioSinks();
  proxy = await startDelayingProxy(sinks.httpUrl, 3_000);
  env = scenarioEnv(t, sinks, {
    SMS_BASE_URL: proxy.url,
    SMS_ATTEMPT_TIMEOUT_MS: '15000',
    SMS_TIMEOUT_MS: '10000',
    WORKER_SHUTDOWN_GRACE_MS: '10000',
  });
  config = scenarioConfig(env);
  temporal = await connectScenarioTemporal(config);
  workflows = await startScenarioWorkers(config, { workflows: true, channels: [] });
});
afterAll(async () => {
  await stopAllChildren();
  await workflows?.close();
  await temporal?.close();
  await proxy?.close();
  await sinks?.close();
});

describe('channel worker stopped with SIGTERM during a send', () => {
  it('finishes the in-flight send within the grace time: delivered once, first attempt completed, no retry', async () => {
    const worker = spawnEntry('src/workers/main.ts', env, ['--channels', 'sms'], 'sms-worker');
    await worker.waitForLine(/workers running/);
    const id = newId();
    const record = envelopeRecord(id, smsRequest('+14155550701'));
    const envelope = JSON.parse(record.value) as Parameters<typeof buildWorkflowInput>[0];
    await temporal.notifications.start(buildWorkflowInput(envelope, config), {
      bodyHash: envelope.bodyHash,
      clientId: envelope.clientId,
    });

    // The provider has the message and is still answering.
    await sinks.waitFor((m) => m.notificationId === id, 20_000);
    expect(proxy.inFlight()).toBe(1);
    worker.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // The worker waited for the answer before exiting.
    expect(proxy.inFlight()).toBe(0);

    const state = (await temporal.client.workflow.getHandle(id).result()) as NotificationState;
    expect(state.status).toBe('sent');
    expect(state.deliveries[0]?.attempts).toBe(1);
    const received = sinks.received({ notificationId: id });
    expect(received).toHaveLength(1);
    expect(state.deliveries[0]?.providerMessageId).toBe(received[0]?.providerMessageId);
    expect(proxy.received()).toBe(1);
    expect(worker.logs().some((l) => l.msg === 'shutting down')).toBe(true);
  });
});
