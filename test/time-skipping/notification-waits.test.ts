import { randomBytes } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalTestServer } from '../../dev/infra/index.js';
import { loadConfig } from '../../src/config/config.js';
import { FAILURE_TYPES } from '../../src/shared/failure-types.js';
import type { ChannelRetryPolicy, DeliverInput, NotificationState, NotificationWorkflowInput } from '../../src/shared/notification.js';
import { channelTaskQueue, NOTIFICATION_WORKFLOW_TYPE, SEARCH_ATTRIBUTES, workflowTaskQueue } from '../../src/shared/notification.js';
import { workflowBundle } from '../../src/workers/create-workers.js';
import { resolveInfraPaths } from '../../dev/infra/index.js';
import { quietTemporalRuntime } from '../helpers/quiet-runtime.js';

/**
 * The workflow's longest wait after a failure — the 7-day wait for a `retry` signal — runs in seconds on Temporal's
 * time-skipping test server (the Java `io.temporal:temporal-test-server` from Maven Central,
 * started by `TestWorkflowEnvironment.createTimeSkipping` through an `existing-path` wrapper; see
 * dev/infra/temporal-test-server.ts). Activities are scripted here.
 *
 * Not here: the `sendAt` wait and the retry backoff. With test server 1.38.0 the server skips time while a workflow
 * task is in flight; a task that schedules an activity after a fired timer (sendAt) always, and one after a failed
 * attempt (backoff) on a busy machine, then times out in skipped time again and again (the worker's completion
 * arrives after the server moved on), and the run ends in the server's default execution timeout. The `sendAt` timer is covered against the real dev server
 * (src/workflows/notification-workflow.test.ts, test/scenarios/temporal-restart-timers.test.ts) and by the replay
 * fixture `scheduled-send-at.json`.
 */
const DAY = 24 * 3600 * 1000;
let env: TestWorkflowEnvironment;
const workers: Worker[] = [];
let running: Promise<void> | undefined;
const taskQueuePrefix = `ts${randomBytes(3).toString('hex')}`;
const calls: Array<{ notificationId: string; at: number }> = [];
const outcomes = new Map<string, (attempt: number) => Error | undefined>();

function input(id: string, request: Partial<NotificationWorkflowInput['request']>, retry: Partial<ChannelRetryPolicy> = {}, awaitRetryMs = 7 * DAY): NotificationWorkflowInput {
  const policy: ChannelRetryPolicy = { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000, maximumAttempts: 3, attemptTimeoutMs: 30_000, totalTimeoutMs: 30 * DAY, ...retry };
  return {
    id,
    clientId: 'test',
    acceptedAt: new Date(0).toISOString(),
    taskQueuePrefix,
    retryPolicies: { email: policy },
    awaitRetryMs,
    request: { routing: 'all', deliveries: [{ channel: 'email', to: 'a@example.com', content: { subject: 's', text: 't' } }], ...request },
  };
}

async function run(i: NotificationWorkflowInput): Promise<{ state: NotificationState; elapsedMs: number }> {
  const started = await env.currentTimeMs();
  const handle = await env.client.workflow.start<(x: NotificationWorkflowInput) => Promise<NotificationState>>(NOTIFICATION_WORKFLOW_TYPE, {
    workflowId: i.id,
    taskQueue: workflowTaskQueue(taskQueuePrefix),
    args: [i],
  });
  // Time skipping starts with result(). Wait until the first workflow task completed (its timer or activity is then
  // on record): a cold worker's first task on a busy machine could otherwise see time skip past its own timeout.
  for (;;) {
    const history = await handle.fetchHistory();
    if (history.events?.some((e) => e.workflowTaskCompletedEventAttributes != null) === true) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const state = await handle.result();
  return { state, elapsedMs: (await env.currentTimeMs()) - started };
}

beforeAll(async () => {
  quietTemporalRuntime();
  const path = await ensureTemporalTestServer({ home: resolveInfraPaths(loadConfig().NOTIFY_HOME).home, log: (line) => console.log(`[test-server] ${line}`) });
  // The SDK gives the server ~5 s to listen; on a busy machine the JVM can take longer, so try a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
      break;
    } catch (err) {
      if (attempt >= 4) throw err;
      console.warn(`time-skipping test server did not start in time (attempt ${attempt}); retrying`);
    }
  }
  // The workflow upserts its status search attribute; the test server must know it.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: { [SEARCH_ATTRIBUTES.status.name]: 2 /* INDEXED_VALUE_TYPE_KEYWORD */ },
  });
  const deliver = (i: DeliverInput): Promise<{ providerMessageId: string; attempt: number }> => {
    const attempt = calls.filter((c) => c.notificationId === i.notificationId).length + 1;
    // When the server scheduled this attempt (server time): attempt n+1 is scheduled at least the backoff after n.
    calls.push({ notificationId: i.notificationId, at: Context.current().info.currentAttemptScheduledTimestampMs });
    const failure = outcomes.get(i.notificationId)?.(attempt);
    if (failure !== undefined) return Promise.reject(failure);
    return Promise.resolve({ providerMessageId: `p-${i.idempotencyKey}`, attempt });
  };
  const bundle = await workflowBundle();
  workers.push(await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue: workflowTaskQueue(taskQueuePrefix), workflowBundle: bundle }));
  workers.push(await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue: channelTaskQueue(taskQueuePrefix, 'email'), activities: { deliver } }));
  running = Promise.all(workers.map((w) => w.run())).then(() => undefined);
}, 180_000);

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await env?.teardown();
});

describe('time skipping', () => {
  it('keeps a permanently failed notification waiting the whole 7-day retry window, then completes it as failed', async () => {
    outcomes.set('ntf_ts_await', () => ApplicationFailure.create({ message: 'no such mailbox', type: FAILURE_TYPES.permanent, nonRetryable: true }));
    const { state, elapsedMs } = await run(input('ntf_ts_await', {}));
    expect(state.status).toBe('failed');
    expect(state.deliveries[0]?.lastError).toMatchObject({ permanent: true, type: FAILURE_TYPES.permanent });
    expect(elapsedMs).toBeGreaterThanOrEqual(7 * DAY);
    expect(calls.filter((c) => c.notificationId === 'ntf_ts_await')).toHaveLength(1);
  });
});
