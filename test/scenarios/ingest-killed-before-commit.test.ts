import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSinks } from '../../dev/sinks/index.js';
import type { IngestEvent } from '../../src/ingest/ingest-consumer.js';
import { testEnvironment } from '../helpers/context.js';
import type { ChildHandle, ScenarioTemporal, ScenarioWorkers } from './helpers.js';
import {
  committedTotal,
  connectScenarioTemporal,
  createScenarioTopics,
  envelopeRecord,
  eventually,
  newId,
  produce,
  runsOf,
  scenarioConfig,
  scenarioEnv,
  smsRequest,
  spawnEntry,
  startScenarioIngest,
  startScenarioSinks,
  startScenarioWorkers,
  stopAllChildren,
} from './helpers.js';

/**
 * Scenario 2: the ingest process dies (SIGKILL) after Temporal accepted a workflow start and before the Kafka offset
 * was committed. The record is redelivered to the next consumer of the group, which must not start a second run —
 * not even when the first run has already completed and sent.
 */
const t = testEnvironment();
let sinks: RunningSinks;
let temporal: ScenarioTemporal;
let workers: ScenarioWorkers | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  sinks = await startScenarioSinks();
  env = scenarioEnv(t, sinks, { KAFKA_PARTITIONS: '1' });
  const config = scenarioConfig(env);
  await createScenarioTopics(config);
  temporal = await connectScenarioTemporal(config);
});
afterAll(async () => {
  await stopAllChildren();
  await workers?.close();
  await temporal?.close();
  await sinks?.close();
});

describe('ingest killed between workflow start and offset commit', () => {
  it('redelivers the record to a new consumer, which finds the completed run and neither starts nor sends again', async () => {
    const config = scenarioConfig(env);
    const id = newId();
    await produce(t.kafkaBrokers, config.KAFKA_TOPIC, [envelopeRecord(id, smsRequest('+14155550101'))]);

    const first: ChildHandle = spawnEntry('test/scenarios/fixtures/blocking-ingest.ts', env, [], 'blocking-ingest');
    await first.waitForLine(new RegExp(`AFTER_START ${id} started`));
    first.kill('SIGKILL');
    const ended = await first.exited;
    expect(ended.signal).toBe('SIGKILL');
    expect(await committedTotal(t.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, config.KAFKA_TOPIC)).toBe(0n);

    // Let the first run finish completely before the redelivery: the hardest case for deduplication.
    workers = await startScenarioWorkers(config, { workflows: true, channels: ['sms'] });
    const result = (await temporal.client.workflow.getHandle(id).result()) as { status: string };
    expect(result.status).toBe('sent');
    expect(sinks.received({ notificationId: id })).toHaveLength(1);

    const events: IngestEvent[] = [];
    const second = await startScenarioIngest(config, {
      starter: temporal.notifications,
      onEvent: (e) => events.push(e),
    });
    try {
      await eventually(
        async () => (await committedTotal(t.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, config.KAFKA_TOPIC)) === 1n,
        'the redelivered record to be committed',
        40_000,
      );
    } finally {
      await second.stop();
    }
    expect(events.filter((e) => e.type === 'started')).toEqual([
      expect.objectContaining({ id, outcome: 'already-started' }),
    ]);
    expect(await runsOf(temporal.client, id)).toBe(1);
    expect(sinks.received({ notificationId: id })).toHaveLength(1);
  });
});
