import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import type { RunningSinks } from '../../dev/sinks/index.js';
import { buildWorkflowInput } from '../../src/ingest/workflow-input.js';
import type { NotificationState } from '../../src/shared/notification.js';
import { testEnvironment } from '../helpers/context.js';
import type { ChildHandle, ScenarioTemporal, ScenarioWorkers } from './helpers.js';
import {
  captureLogger,
  connectScenarioTemporal,
  envelopeRecord,
  eventually,
  newId,
  scenarioConfig,
  scenarioEnv,
  smsRequest,
  spawnEntry,
  startScenarioSinks,
  startScenarioWorkers,
  stopAllChildren,
} from './helpers.js';

/**
 * Scenario 5: the SMS channel worker process is SIGKILLed in the middle of a delivery.
 * - While the provider holds the request unanswered (sink `timeout` fault): the activity times out on its heartbeat
 *   (4 s here), another worker retries it, and the provider receives the message exactly once.
 * - After the provider accepted the message but before the worker could report it (`accept-then-drop`): the retry
 *   sends it again — at most one duplicate, recognisable at the provider by the same idempotency key.
 */
const t = testEnvironment();
let sinks: RunningSinks;
const sinkLog = captureLogger();
let temporal: ScenarioTemporal;
let workflows: ScenarioWorkers | undefined;
let env: Record<string, string>;
let config: AppConfig;

beforeAll(async () => {
  sinks = await startScenarioSinks(sinkLog.logger);
  // Heartbeat timeout = min(attempt timeout, 15 s) = 4 s: a dead worker is noticed after 4 s.
  env = scenarioEnv(t, sinks, { SMS_ATTEMPT_TIMEOUT_MS: '4000', SMS_TIMEOUT_MS: '3500' });
  config = scenarioConfig(env);
  temporal = await connectScenarioTemporal(config);
  workflows = await startScenarioWorkers(config, { workflows: true, channels: [] });
});
afterAll(async () => {
  await stopAllChildren();
  await workflows?.close();
  await temporal?.close();
  await sinks?.close();
});

async function smsWorker(name: string): Promise<ChildHandle> {
  const worker = spawnEntry('src/workers/main.ts', env, ['--channels', 'sms'], name);
  await worker.waitForLine(/workers running/);
  return worker;
}

/** Starts the notification workflow the way ingest does (same input builder, same start options). */
async function startNotification(to: string): Promise<string> {
  const id = newId();
  const record = envelopeRecord(id, smsRequest(to));
  const envelope = JSON.parse(record.value) as Parameters<typeof buildWorkflowInput>[0];
  await temporal.notifications.start(buildWorkflowInput(envelope, config), {
    bodyHash: envelope.bodyHash,
    clientId: envelope.clientId,
  });
  return id;
}

async function killHard(worker: ChildHandle): Promise<void> {
  worker.kill('SIGKILL');
  expect((await worker.exited).signal).toBe('SIGKILL');
}

describe('channel worker killed during a delivery', () => {
  it('retries a send the provider never answered after the heartbeat timeout, and delivers exactly once', async () => {
    const to = '+14155550501';
    sinks.setFaults([{ channel: 'sms', recipient: to, fault: 'timeout', failFirst: 1 }]);
    const first = await smsWorker('sms-worker-1');
    const id = await startNotification(to);
    // The request reached the provider and is being held: the send is in flight.
    await eventually(
      () => sinkLog.lines.some((l) => l.msg === 'http sink: injected fault' && l.idempotencyKey === `${id}.sms`),
      'the first attempt to reach the sink',
      20_000,
    );
    await killHard(first);

    await smsWorker('sms-worker-2');
    const state = (await temporal.client.workflow.getHandle(id).result()) as NotificationState;
    expect(state.status).toBe('sent');
    expect(state.deliveries[0]?.attempts).toBe(2);
    const received = sinks.received({ notificationId: id });
    expect(received).toHaveLength(1);
    expect(received[0]?.attemptNo).toBe(2);
    expect(state.deliveries[0]?.providerMessageId).toBe(received[0]?.providerMessageId);
  });

  it('sends at most one duplicate, with the same idempotency key, when killed after the provider accepted', async () => {
    const to = '+14155550502';
    sinks.setFaults([{ channel: 'sms', recipient: to, fault: 'accept-then-drop', failFirst: 1 }]);
    const running = await smsWorker('sms-worker-3');
    const id = await startNotification(to);
    await sinks.waitFor((m) => m.notificationId === id, 20_000);
    await killHard(running);

    await smsWorker('sms-worker-4');
    const state = (await temporal.client.workflow.getHandle(id).result()) as NotificationState;
    expect(state.status).toBe('sent');
    const received = sinks.received({ notificationId: id });
    expect(received).toHaveLength(2);
    expect(new Set(received.map((m) => m.idempotencyKey))).toEqual(new Set([`${id}.sms`]));
    expect(received.map((m) => m.attemptNo)).toEqual([1, 2]);
    expect(received[0]?.providerMessageId).not.toBe(received[1]?.providerMessageId);
    // The status names the provider message that was acknowledged; the other one is the traceable duplicate.
    expect(state.deliveries[0]?.providerMessageId).toBe(received[1]?.providerMessageId);
  });
});
