import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildLedger,
  CHAOS_FAULT_KINDS,
  chaosPorts,
  DEFAULT_CHAOS_OPTIONS,
  FETCH_BLOCKED_PORTS,
  freeChaosPortBase,
  parseChaosArgs,
  planFaults,
  planWorkload,
  runChaos,
  seededRandom,
} from '../chaos/index.js';
import type { Acknowledged, ChaosFaultKind, InjectedFault, SinkReceipt } from '../chaos/index.js';

const gateway = {
  planned: 0,
  sends: 0,
  attempts: 0,
  rejectionsByReason: {},
  gaveUpByReason: {},
  idempotencyMismatches: 0,
};
const ack = (id: string, channels: string[], routing: 'all' | 'fallback' = 'all', ackedAt = 1_000): Acknowledged => ({
  id,
  seq: 0,
  ackedAt,
  routing,
  channels,
  keyed: false,
  acks: 1,
});
const receipt = (
  notificationId: string,
  channel: string,
  receivedAt: number,
  providerMessageId = `${notificationId}-${channel}-${receivedAt}`,
): SinkReceipt => ({
  notificationId,
  channel,
  receivedAt,
  providerMessageId,
  idempotencyKey: `${notificationId}.${channel}`,
});

describe('the chaos ledger', () => {
  it('counts an acknowledged notification without a receipt on every channel of an all-routing as lost', () => {
    const ledger = buildLedger({
      acknowledged: [ack('a', ['email', 'sms']), ack('b', ['email'])],
      receipts: [receipt('a', 'email', 2_000), receipt('b', 'email', 3_000)],
      gateway,
      faults: [],
      quietAt: 0,
    });
    expect(ledger).toMatchObject({ acknowledged: 2, delivered: 1, lost: 1, lostIds: ['a'] });
  });

  it('counts a fallback notification as delivered by any one of its channels and reports extra channels', () => {
    const ledger = buildLedger({
      acknowledged: [ack('f', ['sms', 'email'], 'fallback'), ack('g', ['sms', 'email'], 'fallback')],
      receipts: [receipt('f', 'email', 1_500), receipt('g', 'sms', 1_200), receipt('g', 'email', 1_300)],
      gateway,
      faults: [],
      quietAt: 0,
    });
    expect(ledger).toMatchObject({ delivered: 2, lost: 0, fallbackExtraDeliveries: 1 });
  });

  it('attributes a duplicate to the fault whose window covers it and tells same from different provider ids', () => {
    const fault: InjectedFault = {
      kind: 'kill-channel-worker',
      target: 'worker-sms-1',
      startedAt: 10_000,
      endedAt: 14_000,
      action: 'kill -9',
      effect: '',
    };
    const ledger = buildLedger({
      acknowledged: [ack('d', ['sms']), ack('e', ['email'])],
      receipts: [
        receipt('d', 'sms', 11_000),
        receipt('d', 'sms', 20_000),
        receipt('e', 'email', 100_000, 'same'),
        receipt('e', 'email', 100_500, 'same'),
      ],
      gateway,
      faults: [fault],
      quietAt: 0,
      attributionSlackMs: 10_000,
    });
    expect(ledger.duplicates).toMatchObject({
      deliveries: 2,
      notifications: 2,
      percent: 100,
      sameProviderMessageId: 1,
      differentProviderMessageId: 1,
      byFault: { 'kill-channel-worker (worker-sms-1)': 1, unattributed: 1 },
    });
    expect(ledger.faults[0]).toMatchObject({ receiptsDuring: 1 });
  });

  it('reports latency from the first 202 to the receipt that completes the notification, and the drain time', () => {
    const ledger = buildLedger({
      acknowledged: [ack('a', ['email', 'sms'], 'all', 1_000), ack('b', ['email'], 'all', 1_000)],
      receipts: [
        receipt('a', 'email', 1_100),
        receipt('a', 'sms', 1_900),
        receipt('b', 'email', 1_300),
        receipt('zz', 'email', 1_400),
      ],
      gateway: { ...gateway, gaveUpByReason: { '503 KAFKA_UNAVAILABLE': 2 } },
      faults: [],
      quietAt: 5_000,
      drainedAt: 7_500,
    });
    expect(ledger.latencyMs).toMatchObject({ samples: 2, p50: 300, p99: 900, max: 900 });
    expect(ledger.drain).toEqual({ timeToDrainMs: 2_500, timedOut: false });
    expect(ledger.unacknowledgedDelivered).toBe(1);
    expect(ledger.gateway.notificationsRejected).toBe(2);
  });
});

describe('the chaos plan', () => {
  it('schedules every fault kind within the first faults and replays the same plan for the same seed', () => {
    const options = {
      kinds: CHAOS_FAULT_KINDS,
      meanGapMs: 1_000,
      durationMs: [1_000, 2_000] as [number, number],
      length: 40,
    };
    const plan = planFaults(options, seededRandom(7));
    expect(new Set(plan.slice(0, CHAOS_FAULT_KINDS.length).map((f) => f.kind))).toEqual(new Set(CHAOS_FAULT_KINDS));
    expect(planFaults(options, seededRandom(7))).toEqual(plan);
    expect(planFaults(options, seededRandom(8))).not.toEqual(plan);
  });

  it('mixes idempotent re-sends and fallback routing in about the requested shares', () => {
    const plan = planWorkload(
      { count: 2_000, channels: ['email', 'sms', 'slack'], idempotentShare: 0.2, fallbackShare: 0.2, runId: 'x' },
      seededRandom(1),
    );
    const keyed = plan.filter((n) => n.idempotencyKey !== undefined);
    const fallback = plan.filter((n) => n.routing === 'fallback');
    expect(keyed.length / plan.length).toBeGreaterThan(0.15);
    expect(keyed.length / plan.length).toBeLessThan(0.25);
    expect(fallback.length / plan.length).toBeGreaterThan(0.15);
    expect(fallback.length / plan.length).toBeLessThan(0.25);
    expect(keyed.every((n) => n.resendDelaysMs.length >= 1 && n.resendDelaysMs.length <= 2)).toBe(true);
    expect(keyed.some((n) => n.resendDelaysMs.includes(0))).toBe(true);
    expect(fallback.every((n) => n.channels.length === 2)).toBe(true);
  });

  it('rejects a bad flag with a message naming the accepted form', () => {
    expect(() => parseChaosArgs(['--fault-duration', '9:3'], ['email', 'sms', 'slack'])).toThrow(
      /expected MIN:MAX seconds/,
    );
    expect(() => parseChaosArgs(['--faults', 'meteor'], ['email', 'sms', 'slack'])).toThrow(
      /unknown fault kind\(s\) meteor; known: kill-ingest/,
    );
    expect(() => parseChaosArgs(['--channels', 'pigeon'], ['email', 'sms'])).toThrow(/use some of email, sms/);
    expect(parseChaosArgs([], ['email', 'sms', 'slack'])).toEqual(DEFAULT_CHAOS_OPTIONS);
  });

  it('rejects a --port-base whose derived ports land on a port fetch refuses or above 65535, naming the setting and the port', () => {
    // base + 2525 (sinks SMTP) = 6000, an X11 port on fetch's bad-port list.
    expect(() => parseChaosArgs(['--port-base', '3475'], ['email', 'sms', 'slack'])).toThrow(
      /--port-base 3475: derived port 6000 \(sinksSmtp\) is one fetch refuses/,
    );
    // base + 5000 … + 5051 is the cluster block: 1530 + 5036 = 6566 only matters on the cluster topology.
    expect(parseChaosArgs(['--port-base', '1530'], ['email', 'sms', 'slack'])?.portBase).toBe(1_530);
    expect(() => parseChaosArgs(['--port-base', '1530', '--topology', 'cluster'], ['email', 'sms', 'slack'])).toThrow(
      /--port-base 1530: derived port 6566 \(cluster block \+36\)/,
    );
    expect(() => parseChaosArgs(['--port-base', '60000'], ['email', 'sms', 'slack'])).toThrow(
      /--port-base 60000: derived ports exceed 65535 \(kafka 69092, kafkaController 69093, .*\); use a base of at most 56442/,
    );
    expect(parseChaosArgs(['--port-base', '56442'], ['email', 'sms', 'slack'])?.portBase).toBe(56_442);
  });

  it('picks a port base whose every derived port is free and usable, at random, so two worktrees do not collide', async () => {
    const bases = await Promise.all([freeChaosPortBase('cluster'), freeChaosPortBase('cluster')]);
    for (const base of bases)
      expect(chaosPorts(base, 'cluster').filter((p) => p.port > 65_535 || FETCH_BLOCKED_PORTS.has(p.port))).toEqual([]);
  });
});

describe('a bounded chaos run', () => {
  const faults: ChaosFaultKind[] = ['kill-ingest', 'kill-channel-worker', 'sink-5xx', 'restart-kafka'];

  it(
    'loses no acknowledged notification through ingest and worker kills, a sink 5xx window and a Kafka restart',
    { timeout: 420_000 },
    async () => {
      const result = await runChaos(
        {
          ...DEFAULT_CHAOS_OPTIONS,
          count: 200,
          rate: 10,
          seed: 7,
          channels: ['email', 'sms'],
          faults,
          faultGapMs: 3_000,
          faultDurationMs: [3_000, 5_000],
          drainTimeoutMs: 120_000,
          settleMs: 3_000,
          // Another worktree's suite may run this test at the same time: a free base, not a fixed one.
          portBase: await freeChaosPortBase('embedded'),
          workDir: '.notify/chaos-test',
          resultsDir: '.notify/chaos-test/results',
        },
        { print: () => undefined },
      );
      const { ledger } = result;
      expect(ledger.acknowledged).toBeGreaterThanOrEqual(150);
      expect(ledger.lost).toBe(0);
      expect(ledger.delivered).toBe(ledger.acknowledged);
      expect(ledger.drain.timedOut).toBe(false);
      expect(ledger.gateway.idempotencyMismatches).toBe(0);
      expect(new Set(ledger.faults.map((f) => f.kind))).toEqual(new Set(faults));
      const written = JSON.parse(readFileSync(result.ledgerFile, 'utf8')) as {
        ledger: { lost: number; faults: unknown[] };
      };
      expect(written.ledger.lost).toBe(0);
      expect(written.ledger.faults).toHaveLength(ledger.faults.length);
      expect(existsSync(result.logFile)).toBe(true);
      expect(readFileSync(result.logFile, 'utf8')).toMatch(
        /fault ■ restart-kafka on kafka: .*effect: gateway answers while it was down/,
      );
    },
  );
});
