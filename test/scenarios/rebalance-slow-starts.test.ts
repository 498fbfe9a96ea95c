import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import type { IngestConsumer, IngestEvent, WorkflowStarter } from '../../src/ingest/ingest-consumer.js';
import { workflowTaskQueue } from '../../src/shared/notification.js';
import { testEnvironment } from '../helpers/context.js';
import type { ScenarioTemporal } from './helpers.js';
import {
  committedTotal,
  connectScenarioTemporal,
  createScenarioTopics,
  envelopeRecord,
  eventually,
  newId,
  produce,
  scenarioConfig,
  scenarioEnv,
  sleep,
  smsRequest,
  startScenarioIngest,
} from './helpers.js';

/**
 * Scenario 9: ingest consumers join and leave the group while records flow and every workflow start is slow
 * (300 ms). Partitions move between consumers mid-batch; abandoned records are redelivered to the new owner.
 * Nothing may be lost and nothing started twice: every record's workflow exists exactly once.
 */
const t = testEnvironment();
let temporal: ScenarioTemporal;
let config: AppConfig;
const consumers = new Set<IngestConsumer>();

beforeAll(async () => {
  config = scenarioConfig(scenarioEnv(t, undefined, { KAFKA_PARTITIONS: '6', INGEST_CONCURRENCY: '4' }));
  await createScenarioTopics(config);
  temporal = await connectScenarioTemporal(config);
});
afterAll(async () => {
  await Promise.allSettled([...consumers].map((c) => c.stop()));
  if (temporal !== undefined) {
    // No workers run in this scenario: end the workflows so they do not linger on the shared server.
    const ids: string[] = [];
    for await (const wf of temporal.client.workflow.list({
      query: `TaskQueue = '${workflowTaskQueue(config.TEMPORAL_TASK_QUEUE_PREFIX)}' AND ExecutionStatus = 'Running'`,
    }))
      ids.push(wf.workflowId);
    await Promise.allSettled(ids.map((id) => temporal.client.workflow.getHandle(id).terminate('scenario finished')));
    await temporal.close();
  }
});

describe('consumer rebalances while workflow starts are slow', () => {
  it('starts every record’s workflow exactly once while consumers are added and removed', async () => {
    const events: IngestEvent[] = [];
    const slow: WorkflowStarter = {
      start: async (input, memo) => {
        await sleep(300);
        return temporal.notifications.start(input, memo);
      },
    };
    const join = async (name: string) => {
      const c = await startScenarioIngest(config, { starter: slow, onEvent: (e) => events.push(e), clientId: name });
      consumers.add(c);
      return c;
    };
    const leave = async (c: IngestConsumer) => {
      await c.stop();
      consumers.delete(c);
    };
    const ids: string[] = [];
    const wave = async (n: number) => {
      const batch = Array.from({ length: n }, (_, i) => {
        const id = newId();
        ids.push(id);
        return envelopeRecord(id, smsRequest(`+1415555${String(9000 + ids.length + i).padStart(4, '0')}`));
      });
      await produce(t.kafkaBrokers, config.KAFKA_TOPIC, batch);
    };
    const startedCount = () => events.filter((e) => e.type === 'started').length;

    const a = await join('ingest-a');
    await wave(20);
    await eventually(() => startedCount() >= 5, 'consumer A to be mid-way', 30_000);
    const b = await join('ingest-b');
    await wave(20);
    await eventually(() => startedCount() >= 20, 'progress with A and B', 60_000);
    const c = await join('ingest-c');
    await leave(a);
    await wave(20);
    await eventually(() => startedCount() >= 35, 'progress with B and C', 60_000);
    await leave(b);
    await eventually(
      async () => (await committedTotal(t.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, config.KAFKA_TOPIC)) === 60n,
      'every record to be committed',
      90_000,
    );
    await leave(c);

    // Exactly one run per record, and nothing else on this scenario's task queue.
    const runs = new Map<string, number>();
    await eventually(
      async () => {
        runs.clear();
        for await (const wf of temporal.client.workflow.list({
          query: `TaskQueue = '${workflowTaskQueue(config.TEMPORAL_TASK_QUEUE_PREFIX)}'`,
        })) {
          runs.set(wf.workflowId, (runs.get(wf.workflowId) ?? 0) + 1);
        }
        return runs.size >= ids.length;
      },
      'visibility to list every workflow',
      20_000,
    );
    expect([...runs.keys()].sort()).toEqual([...ids].sort());
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    // Each id was created by exactly one start; redeliveries after a rebalance found it already started.
    const created = events.flatMap((e) => (e.type === 'started' && e.outcome === 'started' ? [e.id] : []));
    expect(created.sort()).toEqual([...ids].sort());
  });
});
