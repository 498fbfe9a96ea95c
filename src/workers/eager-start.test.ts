import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import { quietTemporalRuntime } from '../../test/helpers/quiet-runtime.js';
import { loadConfig } from '../config/config.js';
import { generatePayloadKeyEntry, PayloadKeyring } from '../crypto/keyring.js';
import type { NotificationState, NotificationWorkflowInput } from '../shared/notification.js';
import { NOTIFICATION_WORKFLOW_TYPE, workflowTaskQueue } from '../shared/notification.js';
import { startEagerStartWorker } from './eager-start.js';
import type { EagerStartWorker } from './eager-start.js';

const env = testEnvironment();
let eager: EagerStartWorker | undefined;

afterAll(async () => {
  await eager?.stop();
});

describe('eager workflow start (INGEST_EAGER_START)', () => {
  it('hands the first workflow task of a started notification to the worker hosted by the starting process', async () => {
    quietTemporalRuntime();
    const config = loadConfig({
      TEMPORAL_NAMESPACE: env.namespace,
      TEMPORAL_TASK_QUEUE_PREFIX: env.prefix,
      INGEST_EAGER_START: 'true',
    });
    const keyring = PayloadKeyring.fromSpec(generatePayloadKeyEntry('k1'));
    eager = await startEagerStartWorker({
      config,
      logger: pino({ level: 'silent' }),
      keyring,
      address: env.temporalAddress,
      installRuntime: false,
    });
    const id = `${env.prefix}-eager`;
    const input: NotificationWorkflowInput = {
      id,
      clientId: 'test',
      acceptedAt: new Date().toISOString(),
      taskQueuePrefix: env.prefix,
      retryPolicies: {},
      awaitRetryMs: 60_000,
      request: { routing: 'all', deliveries: [{ channel: 'sms', to: '+15005550006', content: { body: 'hi' } }] },
    };
    const handle = await eager.client.workflow.start(NOTIFICATION_WORKFLOW_TYPE, {
      workflowId: id,
      taskQueue: workflowTaskQueue(env.prefix),
      args: [input],
      requestEagerStart: true,
    });
    expect(handle.eagerlyStarted).toBe(true);
    // The eagerly run workflow task did the workflow's work: without a retry policy the delivery failed at once.
    const deadline = Date.now() + 20_000;
    let state = await handle.query<NotificationState>('status');
    while (state.status !== 'failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      state = await handle.query<NotificationState>('status');
    }
    expect(state.status).toBe('failed');
    await handle.terminate('test done');
  });
});
