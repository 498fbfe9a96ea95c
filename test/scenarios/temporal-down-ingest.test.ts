import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import { testEnvironment } from '../helpers/context.js';
import type { ChildHandle, PrivateTemporal, ScenarioTemporal } from './helpers.js';
import {
  committedTotal,
  connectScenarioTemporal,
  createScenarioTopics,
  envelopeRecord,
  eventually,
  groupMembers,
  newId,
  produce,
  runsOf,
  scenarioConfig,
  scenarioEnv,
  sleep,
  smsRequest,
  spawnEntry,
  startPrivateTemporal,
  stopAllChildren,
} from './helpers.js';

/**
 * Scenario 4: Temporal (a private instance; the shared one is never touched) is down for longer than the ingest
 * consumer's Kafka session timeout (6 s) while records keep arriving. The real ingest process commits nothing while
 * it cannot start workflows, keeps its group membership (no crash loop, no rebalance storm), and drains every record
 * exactly once when Temporal is back.
 */
const t = testEnvironment();
let privateTemporal: PrivateTemporal;
let temporal: ScenarioTemporal | undefined;
let config: AppConfig;
let env: Record<string, string>;

beforeAll(async () => {
  privateTemporal = await startPrivateTemporal('ingest-down');
  env = scenarioEnv(
    { ...t, temporalAddress: privateTemporal.address, namespace: privateTemporal.namespace },
    undefined,
    {
      KAFKA_PARTITIONS: '2',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      TEMPORAL_START_TIMEOUT_MS: '1000',
      INGEST_BACKOFF_MAX_MS: '1000',
    },
  );
  config = scenarioConfig(env);
  await createScenarioTopics(config);
});
afterAll(async () => {
  await stopAllChildren();
  await temporal?.close();
  await privateTemporal?.dispose();
});

const members = () => groupMembers(t.kafkaBrokers, config.KAFKA_CONSUMER_GROUP);
const committed = () => committedTotal(t.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, config.KAFKA_TOPIC);

describe('Temporal unavailable for longer than the consumer session timeout', () => {
  it('commits nothing while down, stays in the group without crashing, and drains everything once Temporal is back', async () => {
    const ingest: ChildHandle = spawnEntry('src/ingest/main.ts', env, [], 'ingest');
    await ingest.waitForLine(/ingest consuming/);
    const ids = [newId()];
    await produce(t.kafkaBrokers, config.KAFKA_TOPIC, [envelopeRecord(ids[0] ?? '', smsRequest('+14155550401'))]);
    await eventually(
      async () => (await committed()) === 1n,
      'the first record to be committed while Temporal is up',
      30_000,
    );

    // One member, stable: remembered to show later that it was never evicted (a new join means a new member id).
    const before = await members();
    expect(before).toMatchObject({ state: 'Stable' });
    expect(before.members).toHaveLength(1);
    await privateTemporal.stop();
    const more = Array.from({ length: 6 }, () => newId());
    ids.push(...more);
    await produce(
      t.kafkaBrokers,
      config.KAFKA_TOPIC,
      more.map((id, i) => envelopeRecord(id, smsRequest(`+141555504${10 + i}`))),
    );
    // Longer than the session timeout: a consumer that stopped heartbeating would have been evicted by now.
    await sleep(9_000);
    expect(await committed()).toBe(1n);
    expect(ingest.alive()).toBe(true);
    const failures = ingest.logs().filter((l) => l.msg === 'ingest step failed; backing off (offset not committed)');
    expect(failures.length).toBeGreaterThan(0);
    expect(ingest.logs().filter((l) => /crash/i.test(String(l.msg)))).toEqual([]);
    expect(await members()).toEqual(before);

    await privateTemporal.start();
    await eventually(
      async () => (await committed()) === 7n,
      'every record to be committed after Temporal is back',
      60_000,
    );
    temporal = await connectScenarioTemporal(config);
    for (const id of ids) expect(await runsOf(temporal.client, id)).toBe(1);
    expect(ingest.alive()).toBe(true);
    expect(await members()).toEqual(before);
  });
});
