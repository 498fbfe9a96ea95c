import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS } from '../../src/kafka/envelope.js';
import { readTopic } from '../helpers/kafka.js';
import { testEnvironment } from '../helpers/context.js';
import type { ChildHandle, ScenarioTemporal } from './helpers.js';
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
  sleep,
  smsRequest,
  spawnEntry,
  stopAllChildren,
} from './helpers.js';

/**
 * Scenario 3: poison records written raw to the ingress topic (not JSON, wrong schema, oversized) reach the
 * dead-letter topic with their reason and origin in headers; the real ingest process commits past them, keeps
 * running (no crash loop) and still starts the valid record that follows them.
 */
const t = testEnvironment();
let temporal: ScenarioTemporal;
let env: Record<string, string>;

beforeAll(async () => {
  env = scenarioEnv(t, undefined, { KAFKA_PARTITIONS: '1', INGEST_MAX_RECORD_BYTES: '4096' });
  const config = scenarioConfig(env);
  await createScenarioTopics(config);
  temporal = await connectScenarioTemporal(config);
});
afterAll(async () => {
  await stopAllChildren();
  if (temporal !== undefined) {
    // The valid record's workflow has no worker here: end it so it does not linger on the shared server.
    await Promise.allSettled(
      started.map((id) => temporal.client.workflow.getHandle(id).terminate('scenario finished')),
    );
    await temporal.close();
  }
});
const started: string[] = [];

describe('poison records reaching the ingest process', () => {
  it('dead-letters each poison record with headers, commits past them and keeps consuming without a crash loop', async () => {
    const config = scenarioConfig(env);
    const ingest: ChildHandle = spawnEntry('src/ingest/main.ts', env, [], 'ingest');
    await ingest.waitForLine(/ingest consuming/);

    const valid = newId();
    started.push(valid);
    const validRecord = envelopeRecord(valid, smsRequest('+14155550102'));
    const wrongSchema = envelopeRecord(newId(), smsRequest('+14155550103'));
    const tampered = {
      ...(JSON.parse(wrongSchema.value) as Record<string, unknown>),
      v: 99,
      request: { deliveries: 'nope' },
    };
    await produce(t.kafkaBrokers, config.KAFKA_TOPIC, [
      { key: 'not-json', value: '{"v":1, this is not json' },
      { key: wrongSchema.key, value: JSON.stringify(tampered) },
      { key: 'oversized', value: Buffer.alloc(10_000, 0x61) },
      validRecord,
    ]);

    await eventually(
      async () => (await committedTotal(t.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, config.KAFKA_TOPIC)) === 4n,
      'all four records to be committed',
      30_000,
    );
    const dlq = await readTopic(t.kafkaBrokers, config.KAFKA_DLQ_TOPIC, 3, 20_000);
    const header = (m: (typeof dlq)[number], name: string) => m.headers?.[name]?.toString() ?? '';
    // Records are processed concurrently: order the dead letters by their original offset.
    const byOffset = [...dlq].sort(
      (a, b) => Number(header(a, HEADERS.dlqOffset)) - Number(header(b, HEADERS.dlqOffset)),
    );
    expect(byOffset.map((m) => [header(m, HEADERS.dlqOffset), header(m, HEADERS.dlqReason)])).toEqual([
      ['0', 'not-json'],
      ['1', 'invalid-schema'],
      ['2', 'oversized'],
    ]);
    for (const m of byOffset) {
      expect(header(m, HEADERS.dlqTopic)).toBe(config.KAFKA_TOPIC);
      expect(header(m, HEADERS.dlqPartition)).toBe('0');
      expect(header(m, HEADERS.dlqAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    const [notJson, invalid, oversized] = byOffset;
    expect(notJson?.value?.toString()).toBe('{"v":1, this is not json');
    expect(invalid ? header(invalid, HEADERS.dlqError) : '').toMatch(/version|deliveries/);
    expect(oversized ? header(oversized, HEADERS.dlqError) : '').toMatch(/INGEST_MAX_RECORD_BYTES/);
    expect(await runsOf(temporal.client, valid)).toBe(1);

    // Still alive and still consuming: a later record is processed by the same process.
    const later = newId();
    started.push(later);
    await produce(t.kafkaBrokers, config.KAFKA_TOPIC, [envelopeRecord(later, smsRequest('+14155550104'))]);
    await eventually(
      async () => (await committedTotal(t.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, config.KAFKA_TOPIC)) === 5n,
      'the later record to be committed',
      30_000,
    );
    await sleep(500);
    expect(ingest.alive()).toBe(true);
    const crashes = ingest.logs().filter((l) => /crash|restart/i.test(String(l.msg)));
    expect(crashes).toEqual([]);
    expect(ingest.logs().filter((l) => l.msg === 'record dead-lettered')).toHaveLength(3);
  });
});
