import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import type { RunningSinks } from '../../dev/sinks/index.js';
import type { IngestConsumer } from '../../src/ingest/ingest-consumer.js';
import { freePort } from '../helpers/infra.js';
import { readTopic } from '../helpers/kafka.js';
import { testEnvironment } from '../helpers/context.js';
import type { PrivateKafka, ScenarioTemporal, ScenarioWorkers } from './helpers.js';
import {
  connectScenarioTemporal,
  eventually,
  runsOf,
  scenarioConfig,
  scenarioEnv,
  sleep,
  spawnEntry,
  startPrivateKafka,
  startScenarioIngest,
  startScenarioSinks,
  startScenarioWorkers,
  stopAllChildren,
  uniqueLabel,
} from './helpers.js';

/**
 * Scenario 1: the gateway process loses its Kafka (a private broker, stopped on purpose). Submissions are answered
 * 503 with Retry-After instead of hanging or pretending success; once Kafka is back, the client's retry with the same
 * Idempotency-Key is accepted, and the pipeline produces exactly one workflow and one send for it — also if a
 * timed-out write did reach Kafka after all.
 */
const t = testEnvironment();
let kafka: PrivateKafka;
let sinks: RunningSinks;
let temporal: ScenarioTemporal | undefined;
let workers: ScenarioWorkers | undefined;
let ingest: IngestConsumer | undefined;
let config: AppConfig;
let env: Record<string, string>;
let url: string;

beforeAll(async () => {
  kafka = await startPrivateKafka('gateway');
  sinks = await startScenarioSinks();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  env = scenarioEnv({ ...t, kafkaBrokers: kafka.brokers }, sinks, {
    HTTP_PORT: String(port),
    KAFKA_PRODUCE_TIMEOUT_MS: '2000',
  });
  config = scenarioConfig(env);
});
afterAll(async () => {
  await stopAllChildren();
  await ingest?.stop();
  await workers?.close();
  await temporal?.close();
  await sinks?.close();
  await kafka?.dispose();
});

async function submit(
  body: unknown,
  key: string,
): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe('gateway while Kafka is unavailable', () => {
  it('answers 503 with Retry-After, then accepts the same-key retry once Kafka is back: one workflow, one send', async () => {
    const gateway = spawnEntry('src/api/main.ts', env, [], 'gateway');
    await gateway.waitForLine(/gateway listening/);
    const key = uniqueLabel('order-');
    const body = { deliveries: [{ channel: 'sms', to: '+14155550111', content: { body: 'Your order shipped' } }] };

    await kafka.stop();
    const refused = await submit(body, key);
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body).toMatchObject({ statusCode: 503, code: 'KAFKA_UNAVAILABLE' });
    expect(String(refused.body.message)).toMatch(/retry with the same Idempotency-Key/);

    await kafka.start();
    // A well-behaved client: retry with the same key, honouring Retry-After, until accepted.
    let accepted: Awaited<ReturnType<typeof submit>> | undefined;
    for (let i = 0; i < 60 && accepted === undefined; i++) {
      const res = await submit(body, key);
      if (res.status === 202) accepted = res;
      else {
        expect(res.status).toBe(503);
        await sleep(Number(res.retryAfter ?? '1') * 1_000);
      }
    }
    expect(accepted?.status).toBe(202);
    const id = String(accepted?.body.id);
    expect(gateway.alive()).toBe(true);

    temporal = await connectScenarioTemporal(config);
    workers = await startScenarioWorkers(config, { workflows: true, channels: ['sms'] });
    ingest = await startScenarioIngest(config, { starter: temporal.notifications });
    await eventually(
      async () => {
        const res = await fetch(`${url}/v1/notifications/${id}`);
        return res.status === 200 && ((await res.json()) as { status: string }).status === 'sent';
      },
      `${id} to be sent`,
      60_000,
    );

    // The topic holds the accepted record — and possibly the refused write too, if it reached Kafka late: same id.
    const records = await readTopic(kafka.brokers, config.KAFKA_TOPIC, 1, 10_000);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(new Set(records.map((r) => r.key?.toString()))).toEqual(new Set([id]));
    expect(await runsOf(temporal.client, id)).toBe(1);
    await sleep(500);
    expect(sinks.received({ notificationId: id })).toHaveLength(1);
  });
});
