import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKafka } from '../src/kafka/create-kafka.js';
import { startPrivateCluster } from './helpers/cluster.js';
import type { PrivateCluster } from './helpers/cluster.js';
import { eventually, testLogger } from './helpers/kafka.js';
import { startPipeline } from './helpers/pipeline.js';
import type { Pipeline } from './helpers/pipeline.js';

/**
 * The cluster topology, proven: the same pipeline (gateway, ingest, workers — the application code unchanged, only
 * the endpoints differ) on 3 replicated Kafka brokers and 2 Temporal server processes on PostgreSQL, then under
 * faults: the partition leader broker killed with SIGKILL under steady load, a Temporal server process killed, and
 * PostgreSQL restarted. Every acknowledged (202) notification must be delivered; no part is restarted by hand.
 */
let cluster: PrivateCluster;
let p: Pipeline;

beforeAll(async () => {
  cluster = await startPrivateCluster('pipeline');
  // A produce must outlast a broker failover (session timeout + election) before the gateway answers 503.
  // The sinks answer from this process: while a broker restarts (a JVM start) or a Temporal node takes over on the
  // 2 shared cores, an answer can take longer than the 3 s test default, and each such attempt is sent again (at least
  // once). 15 s keeps that at-least-once retry for real stalls without making every loaded second a duplicate.
  p = await startPipeline({
    endpoints: cluster,
    env: { KAFKA_PRODUCE_TIMEOUT_MS: '15000', TEMPORAL_START_TIMEOUT_MS: '5000', SMS_TIMEOUT_MS: '15000' },
  });
}, 600_000);
afterAll(async () => {
  await p?.close();
  await cluster?.dispose();
}, 120_000);
beforeEach(() => {
  p?.sinks.clearFaults();
});

const email = (to: string) => ({ channel: 'email', to, content: { subject: 'Hello', text: `Hi ${to}` } });
const sms = (to: string) => ({ channel: 'sms', to, content: { body: 'Your code is 123456' } });
const idOf = (res: { body: Record<string, unknown> }) => String(res.body.id);

async function runsOf(id: string): Promise<number> {
  let n = 0;
  for await (const _ of p.client.workflow.list({ query: `WorkflowId = '${id}'` })) n++;
  return n;
}

/** Steady closed-loop load: `clients` callers each submit an SMS, pause `pauseMs`, repeat, until stopped. */
function steadyLoad(label: string, clients = 2, pauseMs = 100) {
  const accepted: string[] = [];
  const refused: Array<{ status: number; at: number; body: unknown }> = [];
  let stopped = false;
  let n = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) {
      const to = `+1415555${String(n++ % 10_000).padStart(4, '0')}`;
      const res = await p
        .post('/v1/notifications', { deliveries: [sms(to)], tags: [label] })
        .catch((err: unknown) => ({ status: 0, body: { error: String(err) } }));
      if (res.status === 202) accepted.push(idOf(res));
      else refused.push({ status: res.status, at: Date.now(), body: res.body });
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  return {
    accepted,
    refused,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Where an undelivered notification was last seen: its workflow's state, or that ingest never started one. */
async function whereIs(id: string): Promise<string> {
  try {
    const d = await p.client.workflow.getHandle(id).describe();
    return `${id}: workflow ${d.status.name}`;
  } catch (err) {
    return `${id}: no workflow (${err instanceof Error ? err.name : String(err)}): accepted but never started by ingest`;
  }
}

/**
 * Duplicate sends that are not a retry of the same delivery: at least once means a repeated send carries the same
 * provider idempotency key as the first (a provider that honours it sends once); a different key would be a second
 * delivery or workflow for one notification, which REJECT_DUPLICATE and the notification id must prevent.
 */
function unexplainedDuplicates(duplicates: string[]): string[] {
  return duplicates.flatMap((id) => {
    const keys = new Set(p.sinks.received({ notificationId: id }).map((m) => m.idempotencyKey));
    return keys.size === 1 && !keys.has('') ? [] : [`${id}: idempotency keys ${[...keys].join(', ')}`];
  });
}

/**
 * Waits (bounded) until every accepted id reached a sink; returns which did not, each with where it was last seen,
 * and which were sent more than once.
 */
async function settle(
  accepted: string[],
  timeoutMs = 240_000,
): Promise<{ lost: string[]; where: string[]; duplicates: string[] }> {
  const deadline = Date.now() + timeoutMs;
  let missing = accepted;
  while (Date.now() < deadline) {
    missing = accepted.filter((id) => p.sinks.received({ notificationId: id }).length === 0);
    if (missing.length === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    lost: missing,
    where: await Promise.all(missing.map(whereIs)),
    duplicates: accepted.filter((id) => p.sinks.received({ notificationId: id }).length > 1),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the pipeline on the cluster topology', () => {
  it('creates the ingress topic with replication factor 3 and min.insync.replicas 2 picked from the cluster size', async () => {
    const leaders = await Promise.all([0, 1, 2].map((partition) => cluster.leaderOf(p.config.KAFKA_TOPIC, partition)));
    expect(leaders.every((l) => [1, 2, 3].includes(l))).toBe(true);
    const admin = createKafka({
      brokers: cluster.kafkaBrokers,
      clientId: 'cluster-topic-check',
      logger: testLogger,
    }).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [p.config.KAFKA_TOPIC] });
      expect(meta.topics[0]?.partitions.map((x) => x.replicas.length)).toEqual([3, 3, 3]);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: 2,
            name: p.config.KAFKA_TOPIC,
            configNames: ['min.insync.replicas', 'unclean.leader.election.enable'],
          },
        ],
      });
      const entries = Object.fromEntries(
        (configs.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
      );
      expect(entries).toEqual({ 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' });
    } finally {
      await admin.disconnect();
    }
  });

  it('delivers an email submitted over HTTP and reports it sent', async () => {
    const res = await p.post('/v1/notifications', { deliveries: [email('ada@example.com')] });
    expect(res.status).toBe(202);
    const status = await p.waitForStatus(idOf(res), 'sent', 60_000);
    expect(status.deliveries[0]?.providerMessageId).toBeTruthy();
    expect(p.sinks.received({ notificationId: idOf(res) })).toHaveLength(1);
  });

  it('starts one workflow and sends once for the same Idempotency-Key sent concurrently and again after completion', async () => {
    const key = `cluster-${Date.now()}`;
    const body = { deliveries: [sms('+14155550100')] };
    const first = await Promise.all([
      p.post('/v1/notifications', body, { 'idempotency-key': key }),
      p.post('/v1/notifications', body, { 'idempotency-key': key }),
    ]);
    const ids = new Set(first.map(idOf));
    expect(ids.size).toBe(1);
    const [id] = [...ids] as [string];
    await p.waitForStatus(id, 'sent', 60_000);
    const again = await p.post('/v1/notifications', body, { 'idempotency-key': key });
    expect(idOf(again)).toBe(id);
    await sleep(2_000);
    expect(await runsOf(id)).toBe(1);
    expect(p.sinks.received({ notificationId: id })).toHaveLength(1);
  });

  it('reports failed when retries are exhausted and sends after a retry request', async () => {
    p.sinks.setFaults([{ channel: 'email', recipient: 'flaky@example.com', fault: '5xx' }]);
    const id = idOf(await p.post('/v1/notifications', { deliveries: [email('flaky@example.com')] }));
    const failed = await p.waitForStatus(id, 'failed', 60_000);
    expect(failed.deliveries[0]?.attempts).toBe(3);
    p.sinks.clearFaults();
    expect((await p.post(`/v1/notifications/${id}/retry`, {})).status).toBe(202);
    await p.waitForStatus(id, 'sent', 60_000);
    expect(p.sinks.received({ notificationId: id })).toHaveLength(1);
  });
});

describe('the cluster topology under faults', () => {
  // This case found a real loss (1 of 354 acknowledged, no 503): kafkajs 2.2.4 resolved a send without re-sending the
  // records of a partition that moved to a broker that had already answered the same send. The gateway's producer now
  // checks every record's partition was acknowledged (test/kafka-leader-failover.test.ts reproduces it exactly).
  it('keeps accepting and delivering when the partition leader broker is killed with SIGKILL under steady load: at most a bounded few 503s, each the documented retry answer, nothing lost', async () => {
    const leader = await cluster.leaderOf(p.config.KAFKA_TOPIC, 0);
    const load = steadyLoad('broker-kill');
    await sleep(3_000);
    cluster.killBroker(leader);
    // The ISR still holds two replicas: the partition gets a new leader, the idempotent producer and the consumer
    // group follow it without being restarted.
    await eventually(
      async () => (await cluster.leaderOf(p.config.KAFKA_TOPIC, 0)) !== leader,
      'a new leader for partition 0',
      60_000,
    );
    await sleep(8_000);
    const duringOutage = load.accepted.length;
    await cluster.startBroker(leader);
    await sleep(3_000);
    await load.stop();
    const { lost, where, duplicates } = await settle(load.accepted);
    console.log(
      `[cluster] broker ${leader} killed: ${load.accepted.length} accepted (${duringOutage} before it came back), ${load.refused.length} refused, ${lost.length} lost, ${duplicates.length} duplicates`,
    );
    // A produce that outlasts KAFKA_PRODUCE_TIMEOUT_MS while the partition moves is answered 503 KAFKA_UNAVAILABLE with
    // Retry-After (retry with the same Idempotency-Key is safe): seen 0 of 413 on a quiet box, 4 of 385 with the rest
    // of the suite competing for the 2 cores. Only that answer, and only a few.
    for (const r of load.refused)
      expect(r, 'a refusal other than the failover 503').toMatchObject({
        status: 503,
        body: { code: 'KAFKA_UNAVAILABLE' },
      });
    expect(load.refused.length).toBeLessThanOrEqual(Math.ceil((load.accepted.length + load.refused.length) * 0.02));
    expect(load.accepted.length).toBeGreaterThan(20);
    expect(where, 'acknowledged notifications never delivered, and where each was last seen').toEqual([]);
    expect(lost).toEqual([]);
    // At least once: a send whose completion Temporal did not record (a slow or cut-off response on this loaded box)
    // is retried with the same provider idempotency key; seen 0 of 413 and 1 of 290 here. Bounded, never a loss.
    expect(unexplainedDuplicates(duplicates)).toEqual([]);
    expect(duplicates.length).toBeLessThanOrEqual(Math.ceil(load.accepted.length * 0.05));
  }, 420_000);

  it('keeps ingesting and delivering through the other Temporal server when one is killed with SIGKILL: nothing lost', async () => {
    const load = steadyLoad('temporal-kill');
    await sleep(3_000);
    cluster.killTemporalNode(0);
    await eventually(() => !cluster.temporalNodeRunning(0), 'Temporal node 1 to be gone', 10_000);
    await sleep(15_000);
    await load.stop();
    // Delivered while node 1 is still down: the survivor took over its history shards.
    const { lost, where, duplicates } = await settle(load.accepted);
    console.log(
      `[cluster] temporal node1 killed: ${load.accepted.length} accepted, ${load.refused.length} refused, ${lost.length} lost, ${duplicates.length} duplicates`,
    );
    expect(cluster.temporalNodeRunning(0)).toBe(false);
    expect(load.refused).toEqual([]);
    expect(where, 'acknowledged notifications never delivered, and where each was last seen').toEqual([]);
    expect(lost).toEqual([]);
    expect(unexplainedDuplicates(duplicates)).toEqual([]);
    await cluster.startTemporalNode(0);
  }, 420_000);

  it('resumes without a manual step after PostgreSQL restarts under steady load: nothing lost', async () => {
    const load = steadyLoad('postgres-restart');
    await sleep(3_000);
    await cluster.restartPostgres();
    await sleep(8_000);
    await load.stop();
    const { lost, where, duplicates } = await settle(load.accepted);
    console.log(
      `[cluster] postgres restarted: ${load.accepted.length} accepted, ${load.refused.length} refused, ${lost.length} lost, ${duplicates.length} duplicates`,
    );
    expect(load.refused).toEqual([]);
    expect(where, 'acknowledged notifications never delivered, and where each was last seen').toEqual([]);
    expect(lost).toEqual([]);
    expect(unexplainedDuplicates(duplicates)).toEqual([]);
    // Temporal itself came back: a new notification completes.
    const id = idOf(await p.post('/v1/notifications', { deliveries: [email('after-restart@example.com')] }));
    await p.waitForStatus(id, 'sent', 120_000);
  }, 420_000);
});
