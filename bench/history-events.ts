/**
 * The history of one delivered notification (one SMS, no recipient, delivery events off) next to the history of the
 * minimal one-activity workflow (bench/minimal), on the same Temporal server: every event with the bytes of its
 * payloads and search attributes, so a change to the workflow's commands can be judged by what the server records.
 *
 *   npx tsx bench/history-events.ts          # against TEMPORAL_ADDRESS (starts `npm run infra` servers if down)
 */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities } from '../src/activities/create-activities.js';
import { loadConfig } from '../src/config/config.js';
import { clientDataConverter, workerDataConverter } from '../src/crypto/data-converter.js';
import type { NotificationState, NotificationWorkflowInput } from '../src/shared/notification.js';
import { channelTaskQueue, workflowTaskQueue } from '../src/shared/notification.js';
import { eventTaskQueue } from '../src/shared/events.js';
import { NotificationClient } from '../src/temporal/notification-client.js';
import { workflowBundle } from '../src/workers/create-workers.js';
import { ensureInfra } from '../dev/infra/index.js';
import { PayloadKeyring } from '../src/crypto/keyring.js';
import { createMinimalActivities } from './minimal/activities.js';

type Event = temporal.api.history.v1.IHistoryEvent;

function payloadBytes(value: unknown): number {
  // Every Payload's data + metadata bytes anywhere inside the event's attributes.
  if (value === null || typeof value !== 'object') return 0;
  if (value instanceof Uint8Array) return value.byteLength;
  let n = 0;
  for (const v of Object.values(value as Record<string, unknown>)) n += payloadBytes(v);
  return n;
}

function describe(e: Event): string {
  const type = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof Event] != null) ?? '?';
  const attrs = e[type as keyof Event] as Record<string, unknown> | undefined;
  let extra = '';
  if (type === 'upsertWorkflowSearchAttributesEventAttributes') {
    const fields = (attrs?.searchAttributes as { indexedFields?: Record<string, unknown> } | undefined)?.indexedFields;
    extra = ` ${Object.keys(fields ?? {}).join(', ')}`;
  }
  if (type === 'markerRecordedEventAttributes') extra = ` ${String(attrs?.markerName)}`;
  return `${String(e.eventId).padStart(3)} ${type.replace(/EventAttributes$/, '')}${extra} (${payloadBytes(attrs)} B)`;
}

function print(title: string, events: Event[]): void {
  console.log(`\n${title}: ${events.length} events, ${events.reduce((n, e) => n + payloadBytes(e), 0)} B of payloads`);
  for (const e of events) console.log(`  ${describe(e)}`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const infra = await ensureInfra(config, { log: (line) => console.log(`[infra] ${line}`) });
  const prefix = `hist-${Date.now().toString(36)}`;
  // Payloads encrypted as in production (sizes include the codec's envelope); a throwaway key.
  const keyring = PayloadKeyring.fromSpec(`bench:${Buffer.alloc(32, 9).toString('base64')}`);
  const connection = await NativeConnection.connect({ address: infra.temporalAddress });
  const clientConnection = await Connection.connect({ address: infra.temporalAddress });
  const client = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: clientDataConverter(keyring),
  });
  const plain = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const dataConverter = workerDataConverter(keyring);
  const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined };
  const workers = [
    await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: workflowTaskQueue(prefix),
      workflowBundle: await workflowBundle(),
      dataConverter,
    }),
    await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: channelTaskQueue(prefix, 'sms'),
      activities: createActivities({
        senders: new Map([
          [
            'sms',
            {
              send: (_m, ctx) => Promise.resolve({ providerMessageId: `sms-${ctx.idempotencyKey}` }),
              close: () => Promise.resolve(),
            },
          ],
        ]),
        logger: pino({ level: 'warn' }),
      }),
      dataConverter,
    }),
    // The events queue as a client without webhook endpoints sees it: nothing to deliver.
    await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: eventTaskQueue(prefix),
      activities: {
        emitEvents: () => Promise.resolve({ deliveries: 0 }),
        deliverEvent: () => Promise.resolve({ outcome: 'endpoint-deleted' }),
      },
      dataConverter,
    }),
    await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: `${prefix}-minimal-wf`,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('./minimal/workflows.ts', import.meta.url)),
        logger: { ...silent, warn: (m) => console.warn(m), error: (m) => console.error(m) },
      }),
    }),
    await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: `${prefix}-minimal-act`,
      activities: createMinimalActivities(),
    }),
  ];
  const running = Promise.all(workers.map((w) => w.run()));
  try {
    const notifications = new NotificationClient(client, { taskQueuePrefix: prefix });
    for (const events of [false, true]) {
      const id = `ntf_${prefix.replace(/[^a-z0-9]/g, '')}${events ? 'e' : 'n'}`;
      const input: NotificationWorkflowInput = {
        id,
        clientId: 'bench',
        acceptedAt: new Date().toISOString(),
        taskQueuePrefix: prefix,
        retryPolicies: { sms: config.channels.sms?.retry ?? { ...defaultRetry } },
        awaitRetryMs: config.NOTIFY_AWAIT_RETRY_MS,
        ...(events ? { events: true } : {}),
        request: {
          routing: 'all',
          deliveries: [{ channel: 'sms', to: '+15005550006', content: { body: 'bench message 1' } }],
        },
      };
      await notifications.start(input, {
        bodyHash: '0'.repeat(64),
        clientId: 'bench',
      });
      const state = (await client.workflow.getHandle(id).result()) as NotificationState;
      if (state.status !== 'sent') throw new Error(`notification ended ${state.status}`);
      print(
        `notify (one SMS, sent, delivery events ${events ? 'on (the default)' : 'off'}; ${id})`,
        (await client.workflow.getHandle(id).fetchHistory()).events ?? [],
      );
    }

    const minimal = await plain.workflow.start('minimalWorkflow', {
      workflowId: `minimal-${prefix}`,
      taskQueue: `${prefix}-minimal-wf`,
      args: [`${prefix}-minimal-act`, 'bench message 1'],
    });
    await minimal.result();
    print(`minimal one-activity workflow (${minimal.workflowId})`, (await minimal.fetchHistory()).events ?? []);
  } finally {
    for (const w of workers) w.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
    await infra.stop();
  }
}

const defaultRetry = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  maximumAttempts: 5,
  attemptTimeoutMs: 10_000,
  totalTimeoutMs: 600_000,
};

await main();
