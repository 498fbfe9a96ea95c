import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import type { DeliverInput, NotificationState, NotificationWorkflowInput } from '../shared/notification.js';
import { channelTaskQueue, workflowTaskQueue } from '../shared/notification.js';
import { workflowBundle } from '../workers/create-workers.js';
import { NotificationClient } from '../temporal/notification-client.js';
import { quietTemporalRuntime } from '../../test/helpers/quiet-runtime.js';

/**
 * Workflow behaviour against the real Temporal dev server. Activities are scripted fakes here (the real senders have
 * their own tests and the pipeline tests use them end to end).
 */
const env = testEnvironment();
const prefix = env.prefix;
type Script = (input: DeliverInput, attempt: number) => { providerMessageId: string } | Error;
const scripts = new Map<string, Script>();
const calls: Array<{ channel: string; notificationId: string; attempt: number }> = [];

let connection: NativeConnection;
let clientConnection: Connection;
let client: Client;
let notifications: NotificationClient;
const workers: Worker[] = [];
let running: Promise<unknown>;

const fastRetry = {
  initialIntervalMs: 50,
  backoffCoefficient: 1,
  maximumIntervalMs: 50,
  maximumAttempts: 3,
  attemptTimeoutMs: 5_000,
  totalTimeoutMs: 30_000,
};

function input(
  id: string,
  overrides: Partial<NotificationWorkflowInput['request']> = {},
  awaitRetryMs = 60_000,
): NotificationWorkflowInput {
  return {
    id,
    clientId: 'test',
    acceptedAt: new Date().toISOString(),
    taskQueuePrefix: prefix,
    retryPolicies: { alpha: fastRetry, beta: fastRetry },
    awaitRetryMs,
    request: { routing: 'all', deliveries: [{ channel: 'alpha', to: 'a', content: { text: 'hi' } }], ...overrides },
  };
}

async function start(i: NotificationWorkflowInput): Promise<void> {
  expect(await notifications.start(i, { bodyHash: 'h', clientId: 'test' })).toBe('started');
}

async function result(id: string): Promise<NotificationState> {
  return (await client.workflow.getHandle(id).result()) as NotificationState;
}

async function waitForStatus(id: string, status: string): Promise<NotificationState> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const state = await client.workflow.getHandle(id).query<NotificationState>('status');
    if (state.status === status) return state;
    if (Date.now() > deadline) throw new Error(`status stayed ${state.status}, wanted ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  quietTemporalRuntime();
  connection = await NativeConnection.connect({ address: env.temporalAddress });
  clientConnection = await Connection.connect({ address: env.temporalAddress });
  client = new Client({ connection: clientConnection, namespace: env.namespace });
  notifications = new NotificationClient(client, { taskQueuePrefix: prefix });
  workers.push(
    await Worker.create({
      connection,
      namespace: env.namespace,
      taskQueue: workflowTaskQueue(prefix),
      workflowBundle: await workflowBundle(),
    }),
  );
  for (const channel of ['alpha', 'beta']) {
    workers.push(
      await Worker.create({
        connection,
        namespace: env.namespace,
        taskQueue: channelTaskQueue(prefix, channel),
        activities: {
          deliver: (i: DeliverInput) => {
            const attempt =
              calls.filter((c) => c.notificationId === i.notificationId && c.channel === i.channel).length + 1;
            calls.push({ channel: i.channel, notificationId: i.notificationId, attempt });
            const outcome = (
              scripts.get(`${i.notificationId}/${channel}`) ?? (() => ({ providerMessageId: `p-${i.idempotencyKey}` }))
            )(i, attempt);
            if (outcome instanceof Error) return Promise.reject(outcome);
            return Promise.resolve({ ...outcome, attempt });
          },
        },
      }),
    );
  }
  running = Promise.all(workers.map((w) => w.run()));
});

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await connection?.close();
  await clientConnection?.close();
});

const permanent = () =>
  ApplicationFailure.create({ message: 'bad recipient', type: 'PermanentDeliveryError', nonRetryable: true });
// Like the real activity layer (src/activities), failures carry the attempt number in their details.
const transient = (attempt = 1) =>
  ApplicationFailure.create({ message: 'provider 503', type: 'TransientDeliveryError', details: [{ attempt }] });

describe('notificationWorkflow', () => {
  it('sends on the channel task queue and completes as sent with the provider message id', async () => {
    const id = `${prefix}-simple`;
    await start(input(id));
    const state = await result(id);
    expect(state.status).toBe('sent');
    expect(state.deliveries[0]).toMatchObject({ channel: 'alpha', status: 'sent', providerMessageId: `p-${id}.alpha` });
  });

  it('delivers on every channel when routing is all', async () => {
    const id = `${prefix}-all`;
    await start(
      input(id, {
        deliveries: [
          { channel: 'alpha', to: 'a', content: {} },
          { channel: 'beta', to: 'b', content: {} },
        ],
      }),
    );
    const state = await result(id);
    expect(state.deliveries.map((d) => d.status)).toEqual(['sent', 'sent']);
  });

  it('falls back to the next channel when the first fails permanently, without retrying the permanent failure', async () => {
    const id = `${prefix}-fallback`;
    scripts.set(`${id}/alpha`, () => permanent());
    await start(
      input(id, {
        routing: 'fallback',
        deliveries: [
          { channel: 'alpha', to: 'a', content: {} },
          { channel: 'beta', to: 'b', content: {} },
        ],
      }),
    );
    const state = await result(id);
    expect(state.status).toBe('sent');
    expect(state.deliveries[0]).toMatchObject({ status: 'failed', lastError: { permanent: true } });
    expect(state.deliveries[1]).toMatchObject({ status: 'sent' });
    expect(calls.filter((c) => c.notificationId === id && c.channel === 'alpha')).toHaveLength(1);
  });

  it('skips later fallback channels once one succeeded', async () => {
    const id = `${prefix}-fallback-skip`;
    await start(
      input(id, {
        routing: 'fallback',
        deliveries: [
          { channel: 'alpha', to: 'a', content: {} },
          { channel: 'beta', to: 'b', content: {} },
        ],
      }),
    );
    const state = await result(id);
    expect(state.deliveries.map((d) => d.status)).toEqual(['sent', 'skipped']);
    expect(calls.filter((c) => c.notificationId === id && c.channel === 'beta')).toHaveLength(0);
  });

  it('retries transient failures and records the attempt that succeeded', async () => {
    const id = `${prefix}-transient`;
    scripts.set(`${id}/alpha`, (_i, attempt) => (attempt < 3 ? transient() : { providerMessageId: 'third-time' }));
    await start(input(id));
    const state = await result(id);
    expect(state.deliveries[0]).toMatchObject({ status: 'sent', providerMessageId: 'third-time', attempts: 3 });
  });

  it('waits for sendAt and can be cancelled before it fires, sending nothing', async () => {
    const id = `${prefix}-cancel`;
    await start(input(id, { sendAt: new Date(Date.now() + 60_000).toISOString() }));
    await waitForStatus(id, 'scheduled');
    await notifications.cancel(id);
    const state = await result(id);
    expect(state.status).toBe('cancelled');
    expect(state.deliveries[0]?.status).toBe('cancelled');
    expect(calls.filter((c) => c.notificationId === id)).toHaveLength(0);
  });

  it('does not send before sendAt and sends after it', async () => {
    const id = `${prefix}-scheduled`;
    const sendAt = Date.now() + 2_000;
    await start(input(id, { sendAt: new Date(sendAt).toISOString() }));
    const state = await result(id);
    expect(state.status).toBe('sent');
    expect(Date.parse(state.deliveries[0]?.sentAt ?? '')).toBeGreaterThanOrEqual(sendAt);
  });

  it('reports failed after exhausting retries, waits for a retry signal, then sends', async () => {
    const id = `${prefix}-redrive`;
    let healthy = false;
    scripts.set(`${id}/alpha`, (_i, attempt) => (healthy ? { providerMessageId: 'after-retry' } : transient(attempt)));
    await start(input(id));
    const failed = await waitForStatus(id, 'failed');
    expect(failed.deliveries[0]).toMatchObject({ status: 'failed', attempts: 3, lastError: { permanent: false } });
    expect(failed.awaitingRetryUntil).toBeDefined();
    healthy = true;
    await notifications.retry(id);
    const state = await result(id);
    expect(state.status).toBe('sent');
    expect(state.deliveries[0]).toMatchObject({ status: 'sent', providerMessageId: 'after-retry' });
  });

  it('completes as failed when no retry signal arrives within the wait', async () => {
    const id = `${prefix}-giveup`;
    scripts.set(`${id}/alpha`, () => permanent());
    await start(input(id, {}, 500));
    const state = await result(id);
    expect(state.status).toBe('failed');
    expect(state.completedAt).toBeDefined();
  });

  it('never starts a second run for the same notification id, even after the first completed', async () => {
    const id = `${prefix}-dedup`;
    await start(input(id));
    await result(id);
    expect(await notifications.start(input(id), { bodyHash: 'h', clientId: 'test' })).toBe('already-started');
    expect(calls.filter((c) => c.notificationId === id)).toHaveLength(1);
  });
});
