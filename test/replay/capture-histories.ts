/**
 * Captures workflow histories from the real Temporal server into `test/replay/histories/*.json`, the fixtures of the
 * replay test (`test/replay/replay.test.ts`). Run it when a workflow change is made *with* `patched()` (to add
 * histories of the new code path) or when a new kind of run should be protected — never to "fix" a failing replay
 * test: a replay failure means running workflows would break.
 *
 *   npm run infra -- start             # or any environment pointing at your Temporal (TEMPORAL_ADDRESS)
 *   npx tsx test/replay/capture-histories.ts                 # every scenario (rewrites every fixture)
 *   npx tsx test/replay/capture-histories.ts events-failed-then-retried   # only the named ones (keeps the others), e.g. digest-joined
 *
 * The scenarios run the production workflow bundle and the real `deliver` activity (createActivities) with scripted
 * senders on two channels, with the production data converter under the fixture payload key.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities } from '../../src/activities/create-activities.js';
import { createDigestActivities } from '../../src/activities/digest-activities.js';
import { digestWorkflowId } from '../../src/shared/digest.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../../src/channels/errors.js';
import type { ChannelSender } from '../../src/channels/types.js';
import { loadConfig } from '../../src/config/config.js';
import { clientDataConverter, workerDataConverter } from '../../src/crypto/data-converter.js';
import type {
  ChannelRetryPolicy,
  NotificationRequest,
  NotificationState,
  NotificationWorkflowInput,
} from '../../src/shared/notification.js';
import { channelTaskQueue, workflowTaskQueue } from '../../src/shared/notification.js';
import { eventTaskQueue } from '../../src/shared/events.js';
import type { EventActivities } from '../../src/activities/event-activities.js';
import { NotificationClient } from '../../src/temporal/notification-client.js';
import { workflowBundle } from '../../src/workers/create-workers.js';
import { ensureInfra } from '../../dev/infra/index.js';
import { fixtureKeyring } from './fixture-key.js';
import { historyToFile } from './history-file.js';
import { quietTemporalRuntime } from '../helpers/quiet-runtime.js';

const OUT_DIR = join(import.meta.dirname, 'histories');
const CHANNELS = ['email', 'sms'] as const;
const fastRetry: ChannelRetryPolicy = {
  initialIntervalMs: 200,
  backoffCoefficient: 2,
  maximumIntervalMs: 1_000,
  maximumAttempts: 4,
  attemptTimeoutMs: 10_000,
  totalTimeoutMs: 60_000,
};

/** Recipients script the fake senders: what each attempt of a delivery to them does. */
const attempts = new Map<string, number>();
const retryAllowed = new Set<string>();
function scriptedSender(channel: string): ChannelSender<unknown, unknown> {
  return {
    send: ({ to }, ctx) => {
      const n = (attempts.get(ctx.idempotencyKey) ?? 0) + 1;
      attempts.set(ctx.idempotencyKey, n);
      const recipient = String(to);
      if (recipient.startsWith('permanent'))
        return Promise.reject(new PermanentDeliveryError(`${channel}: recipient rejected`, { code: 550 }));
      if (recipient.startsWith('until-retry') && !retryAllowed.has(ctx.notificationId))
        return Promise.reject(new PermanentDeliveryError(`${channel}: mailbox full`, { code: 552 }));
      if (recipient.startsWith('flaky') && n <= 2)
        return Promise.reject(new TransientDeliveryError(`${channel}: provider 503`, { code: 503 }));
      return Promise.resolve({ providerMessageId: `${channel}-${ctx.idempotencyKey}-${n}` });
    },
    close: () => Promise.resolve(),
  };
}

interface Scenario {
  /** Fixture file name (without `.json`). */
  name: string;
  description: string;
  request: NotificationRequest;
  /** Drives the running workflow (signals) and returns the status it must end with. */
  drive?: (id: string, notifications: NotificationClient, client: Client) => Promise<void>;
  expect: NotificationState['status'];
  /** Run with delivery events on (`events: true` in the input): the `patched('events-v1')` path. */
  events?: boolean;
  /** Also writes the history of this workflow (e.g. the digest actor the notification joined) under this name. */
  also?: { name: string; description: string; workflowId: (prefix: string) => string };
}

async function waitForStatus(client: Client, id: string, status: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await client.workflow.getHandle(id).query<NotificationState>('status');
    if (state.status === status) return;
    if (Date.now() > deadline) throw new Error(`${id}: status stayed ${state.status}, wanted ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const email = (to: string) => ({ channel: 'email', to, content: { subject: 'Hi', text: 'Hello' } });
const sms = (to: string) => ({ channel: 'sms', to, content: { body: 'Hello' } });

const scenarios: Scenario[] = [
  {
    name: 'sent-immediately',
    description: 'the common run: one sms, no sendAt, no recipient, delivery events off; sent on the first attempt',
    request: { routing: 'all', deliveries: [sms('ok-+15005550005')] },
    expect: 'sent',
  },
  {
    name: 'scheduled-send-at',
    description: 'sendAt 3 s ahead: durable timer, then one email sent',
    request: {
      routing: 'all',
      sendAt: new Date(Date.now() + 3_000).toISOString(),
      tags: ['replay'],
      deliveries: [email('ok@example.com')],
    },
    expect: 'sent',
  },
  {
    name: 'fallback-routing',
    description: 'routing fallback: sms fails permanently, email sent',
    request: { routing: 'fallback', deliveries: [sms('permanent-+15005550001'), email('ok@example.com')] },
    expect: 'sent',
  },
  {
    name: 'transient-retries-then-sent',
    description: 'sms fails transiently twice (activity retry policy), then sent',
    request: { routing: 'all', deliveries: [sms('flaky-+15005550002')] },
    expect: 'sent',
  },
  {
    name: 'failed-then-retried',
    description: 'email fails permanently, sms sent; notification failed, awaits retry; retry signal; email sent',
    request: {
      routing: 'all',
      metadata: { invoice: 'INV-1' },
      deliveries: [email('until-retry@example.com'), sms('ok-+15005550003')],
    },
    drive: async (id, notifications, client) => {
      await waitForStatus(client, id, 'failed');
      retryAllowed.add(id);
      await notifications.retry(id, 'replay-capture');
    },
    expect: 'sent',
  },
  {
    name: 'cancelled-while-scheduled',
    description: 'sendAt an hour ahead; cancel signal while scheduled; nothing sent',
    request: {
      routing: 'all',
      sendAt: new Date(Date.now() + 3_600_000).toISOString(),
      deliveries: [email('ok@example.com')],
    },
    drive: async (id, notifications, client) => {
      await waitForStatus(client, id, 'scheduled');
      await notifications.cancel(id, 'replay-capture');
    },
    expect: 'cancelled',
  },
  {
    name: 'events-failed-then-retried',
    description:
      'delivery events on: email fails permanently, sms sent (delivery events); notification failed (event), retry, email sent (events of round 1)',
    events: true,
    request: {
      routing: 'all',
      metadata: { invoice: 'INV-2' },
      deliveries: [email('until-retry@example.com'), sms('ok-+15005550004')],
    },
    drive: async (id, notifications, client) => {
      await waitForStatus(client, id, 'failed');
      retryAllowed.add(id);
      await notifications.retry(id, 'replay-capture');
    },
    expect: 'sent',
  },
  {
    name: 'digest-joined',
    description: 'digest (key k, window 2s) for recipient r1: join activity, digestAssigned, digestOutcome; digested',
    request: {
      routing: 'all',
      recipient: 'r1',
      digest: { key: 'k', window: '2s' },
      deliveries: [email('ok@example.com')],
    },
    expect: 'digested',
    also: {
      name: 'digest-window',
      description: 'the digest actor of digest-joined: one window of one notification sent, then idle',
      workflowId: (prefix) => digestWorkflowId(prefix, 'replay', 'r1', 'k'),
    },
  },
];

/** Event ids the fake emission activity was handed (the capture only records the notification workflow's side). */
const emitted: string[] = [];
const fakeEventActivities: EventActivities = {
  emitEvents: (input) => {
    emitted.push(...input.events.map((e) => e.id));
    return Promise.resolve({ deliveries: 0 });
  },
  deliverEvent: () => Promise.resolve({ outcome: 'endpoint-deleted' }),
};
/** Scenario names given on the command line (all when none). */
const only = process.argv.slice(2);

async function main(): Promise<void> {
  quietTemporalRuntime();
  const config = loadConfig();
  const infra = await ensureInfra(config, { log: (line) => console.log(`[infra] ${line}`) });
  const prefix = `replay-${Date.now().toString(36)}`;
  const keyring = fixtureKeyring();
  const logger = pino({ level: 'warn' });
  const connection = await NativeConnection.connect({ address: infra.temporalAddress });
  const clientConnection = await Connection.connect({ address: infra.temporalAddress });
  const client = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: clientDataConverter(keyring),
  });
  const notifications = new NotificationClient(client, { taskQueuePrefix: prefix });
  const dataConverter = workerDataConverter(keyring);
  const workers = [
    await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: workflowTaskQueue(prefix),
      workflowBundle: await workflowBundle(),
      activities: createDigestActivities({ client }),
      dataConverter,
    }),
    ...(await Promise.all(
      CHANNELS.map((channel) =>
        Worker.create({
          connection,
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue: channelTaskQueue(prefix, channel),
          activities: createActivities({
            senders: new Map([[channel, scriptedSender(channel)]]),
            logger,
            // Recipient deliveries (the digest scenario) resolve to their explicit address.
            recipients: {
              resolve: (q) => Promise.resolve({ kind: 'send', to: q.to }),
              addSuppression: () => Promise.reject(new Error('no suppressions in replay capture')),
            },
          }),
          dataConverter,
        }),
      ),
    )),
    await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: eventTaskQueue(prefix),
      activities: fakeEventActivities,
      dataConverter,
    }),
  ];
  const running = Promise.all(workers.map((w) => w.run()));
  try {
    mkdirSync(OUT_DIR, { recursive: true });
    await Promise.all(
      scenarios.map(async (scenario, i) => {
        if (only.length > 0 && !only.includes(scenario.name)) return;
        const id = `ntf_replay${prefix.replace(/[^a-z0-9]/g, '')}${String(i).padStart(2, '0')}`.slice(0, 36);
        const input: NotificationWorkflowInput = {
          id,
          clientId: 'replay',
          acceptedAt: new Date().toISOString(),
          taskQueuePrefix: prefix,
          retryPolicies: { email: fastRetry, sms: fastRetry },
          awaitRetryMs: 60_000,
          request: scenario.request,
          ...(scenario.events === true ? { events: true } : {}),
        };
        await notifications.start(input, { bodyHash: '0'.repeat(64), clientId: 'replay' });
        await scenario.drive?.(id, notifications, client);
        const handle = client.workflow.getHandle(id);
        const state = (await handle.result()) as NotificationState;
        if (state.status !== scenario.expect)
          throw new Error(`${scenario.name}: ended ${state.status}, expected ${scenario.expect}`);
        const history = await handle.fetchHistory();
        writeFileSync(
          join(OUT_DIR, `${scenario.name}.json`),
          `${JSON.stringify(historyToFile(scenario.description, id, history), null, 1)}\n`,
        );
        console.log(`${scenario.name}: ${state.status}, ${history.events?.length ?? 0} events → ${scenario.name}.json`);
        if (scenario.also !== undefined) {
          const other = client.workflow.getHandle(scenario.also.workflowId(prefix));
          const otherHistory = await other.fetchHistory();
          writeFileSync(
            join(OUT_DIR, `${scenario.also.name}.json`),
            `${JSON.stringify(historyToFile(scenario.also.description, other.workflowId, otherHistory), null, 1)}\n`,
          );
          console.log(`${scenario.also.name}: ${otherHistory.events?.length ?? 0} events → ${scenario.also.name}.json`);
        }
      }),
    );
    if (emitted.length > 0) console.log(`events emitted: ${emitted.join(', ')}`);
  } finally {
    for (const w of workers) w.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
    await infra.stop();
  }
}

await main();
