import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/kafka.js';
import { testEnvironment } from '../../test/helpers/context.js';
import { quietTemporalRuntime } from '../../test/helpers/quiet-runtime.js';
import { createDigestActivities } from '../activities/digest-activities.js';
import type { DigestItem, DigestWorkflowInput } from '../shared/digest.js';
import { DIGEST_WORKFLOW_TYPE, digestWorkflowId } from '../shared/digest.js';
import type { DeliverInput } from '../shared/notification.js';
import { channelTaskQueue, workflowTaskQueue } from '../shared/notification.js';
import { workflowBundle } from '../workers/create-workers.js';
import type { DigestView } from './digest-workflow.js';

/**
 * The digest actor against the real Temporal dev server, fed directly by the production join activity: the email
 * activity is a scripted fake that records each send's notification ids and can hold a send in flight.
 */
const env = testEnvironment();
const prefix = env.prefix;
const sends: Array<{ sendId: string; ids: string[]; idempotencyKey: string }> = [];
let hold: Promise<void> | undefined;
let connection: NativeConnection;
let clientConnection: Connection;
let client: Client;
const workers: Worker[] = [];
let running: Promise<unknown>;

const policy = {
  initialIntervalMs: 50,
  backoffCoefficient: 1,
  maximumIntervalMs: 50,
  maximumAttempts: 3,
  attemptTimeoutMs: 30_000,
  totalTimeoutMs: 60_000,
};

function item(id: string, windowMs = 1_000): DigestItem {
  return {
    notificationId: id,
    acceptedAt: new Date().toISOString(),
    windowMs,
    deliveries: [{ channel: 'email', to: 'ada@example.com', content: { subject: id, text: `text of ${id}` } }],
    retryPolicies: { email: policy },
  };
}

function start(recipient: string): DigestWorkflowInput {
  return { clientId: 'test', recipient, key: 'k', taskQueuePrefix: prefix, pending: [], recent: [], windowsSent: 0 };
}

beforeAll(async () => {
  quietTemporalRuntime();
  connection = await NativeConnection.connect({ address: env.temporalAddress });
  clientConnection = await Connection.connect({ address: env.temporalAddress });
  client = new Client({ connection: clientConnection, namespace: env.namespace });
  workers.push(
    await Worker.create({
      connection,
      namespace: env.namespace,
      taskQueue: workflowTaskQueue(prefix),
      workflowBundle: await workflowBundle(),
      activities: createDigestActivities({ client }),
    }),
    await Worker.create({
      connection,
      namespace: env.namespace,
      taskQueue: channelTaskQueue(prefix, 'email'),
      activities: {
        deliver: async (i: DeliverInput) => {
          const headers = (i.content as { headers: Record<string, string> }).headers;
          sends.push({
            sendId: i.notificationId,
            ids: (headers['X-Notify-Digest-Items'] ?? '').split(' '),
            idempotencyKey: i.idempotencyKey,
          });
          // Heartbeats while held, like the real activity, so a long hold is not a heartbeat timeout.
          const beat = setInterval(() => Context.current().heartbeat(), 1_000);
          await hold?.finally(() => clearInterval(beat));
          clearInterval(beat);
          return { providerMessageId: `p-${i.idempotencyKey}`, attempt: 1 };
        },
      },
    }),
  );
  running = Promise.all(workers.map((w) => w.run()));
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await connection?.close();
  await clientConnection?.close();
});

/** Feeds one item the way the notification workflow's join activity does (signal-with-start). */
async function join(recipient: string, i: DigestItem): Promise<void> {
  const activities = createDigestActivities({ client });
  await activities.joinDigest({
    workflowId: digestWorkflowId(prefix, 'test', recipient, 'k'),
    start: start(recipient),
    item: i,
  });
}

async function view(recipient: string): Promise<DigestView | undefined> {
  return client.workflow
    .getHandle(digestWorkflowId(prefix, 'test', recipient, 'k'))
    .query<DigestView>('status')
    .catch(() => undefined);
}

describe('digestWorkflow', () => {
  it('adds a notification once however often its join is repeated (a retried signal activity)', async () => {
    const recipient = 'dedupe';
    await Promise.all([
      join(recipient, item('ntf_dup1', 3_000)),
      join(recipient, item('ntf_dup1', 3_000)),
      join(recipient, item('ntf_dup2', 3_000)),
      join(recipient, item('ntf_dup1', 3_000)),
    ]);
    await eventually(async () => (await view(recipient))?.phase === 'idle', 'the window to be sent', 30_000);
    const mine = sends.filter((s) => s.sendId === 'dgs_dup1' || s.sendId === 'dgs_dup2');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.ids.sort()).toEqual(['ntf_dup1', 'ntf_dup2']);
    // Late repeats after the send (still deduplicated: the run remembers them) do not open another window.
    await join(recipient, item('ntf_dup2'));
    expect((await view(recipient))?.next).toEqual([]);
    expect(await client.workflow.getHandle(digestWorkflowId(prefix, 'test', recipient, 'k')).describe()).toMatchObject({
      type: DIGEST_WORKFLOW_TYPE,
    });
  });

  it('keeps notifications that arrive while a window is being sent for the next window, none lost or sent twice', async () => {
    const recipient = 'closing';
    let release: () => void = () => undefined;
    hold = new Promise<void>((r) => {
      release = r;
    });
    await join(recipient, item('ntf_w1a'));
    await join(recipient, item('ntf_w1b'));
    // The first window's send is in flight (held by the fake provider): later joins must wait for the next window.
    await eventually(() => sends.some((s) => s.sendId === 'dgs_w1a'), 'the first send to start', 30_000);
    await Promise.all([
      join(recipient, item('ntf_w2a')),
      join(recipient, item('ntf_w2b')),
      join(recipient, item('ntf_w1b')),
    ]);
    await eventually(
      async () => (await view(recipient))?.next.length === 2,
      'both to wait for the next window',
      30_000,
    );
    hold = undefined;
    release();
    // The two joined concurrently: either may open the second window (its send id names the opener).
    const second = (s: { sendId: string }) => s.sendId === 'dgs_w2a' || s.sendId === 'dgs_w2b';
    await eventually(() => sends.some(second), 'the second window to be sent', 30_000);
    const mine = sends.filter((s) => s.sendId.startsWith('dgs_w'));
    expect(mine).toHaveLength(2);
    expect(mine[0]).toEqual({ sendId: 'dgs_w1a', ids: ['ntf_w1a', 'ntf_w1b'], idempotencyKey: 'dgs_w1a.email' });
    expect(second(mine[1] ?? { sendId: '' })).toBe(true);
    expect(mine[1]?.ids.sort()).toEqual(['ntf_w2a', 'ntf_w2b']);
    expect(mine[1]?.idempotencyKey).toBe(`${mine[1]?.sendId}.email`);
    // The second window ran in a new run (continue-as-new), which carried the window count and the seen ids.
    await eventually(
      async () => (await view(recipient))?.windowsSent === 2,
      'the second run to finish its send',
      30_000,
    );
    const handle = client.workflow.getHandle(digestWorkflowId(prefix, 'test', recipient, 'k'));
    let runs = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs++;
    expect(runs).toBe(2);
  });
});
