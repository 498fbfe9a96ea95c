import { parseArgs } from 'node:util';
import {
  CHAOS_FAULT_KINDS,
  CLUSTER_ONLY_FAULT_KINDS,
  DEFAULT_CLUSTER_FAULT_KINDS,
  DEFAULT_FAULT_KINDS,
} from './faults.js';
import type { ChaosFaultKind } from './faults.js';
import { portBaseProblem } from './ports.js';

/** Everything a chaos run can be told; `npm run chaos -- --help` documents each flag. */
export interface ChaosOptions {
  /** Notifications to submit. */
  count: number;
  /** Submissions started per second, open loop (a slow answer never delays the next submission). */
  rate: number;
  /** Seed of the workload mix and the fault schedule. */
  seed: number;
  /** Channels to send on (each gets its own worker processes). */
  channels: string[];
  /** Share of notifications sent with an Idempotency-Key and re-sent once or twice with the same key. */
  idempotentShare: number;
  /** Share of notifications with `routing: fallback` over two channels. */
  fallbackShare: number;
  /** Fault kinds to draw from; every listed kind is injected at least once. */
  faults: ChaosFaultKind[];
  /** Mean pause between two faults. */
  faultGapMs: number;
  /** Range of one fault's duration (down time of a server, length of a sink fault window, restart delay ×0.3). */
  faultDurationMs: [number, number];
  /** Ingest consumer processes. */
  ingestConsumers: number;
  /** Worker processes per channel. */
  workersPerChannel: number;
  /** Give up waiting for deliveries this long after the last fault. */
  drainTimeoutMs: number;
  /** Extra wait after the drain so late duplicates are still counted. */
  settleMs: number;
  /** Attempts per submission (503 / network errors / timeouts are retried with the same Idempotency-Key). */
  maxSubmitAttempts: number;
  /** Timeout of one HTTP submission attempt. */
  requestTimeoutMs: number;
  /**
   * Ports are derived from this base: Kafka base+9092 (controller +9093), Temporal base+7233 (UI +8233), gateway
   * base+3000, sinks HTTP base+4010, sinks SMTP base+2525. Default 20000 keeps clear of the shared dev infra.
   */
  portBase: number;
  /** Private state (Kafka log dirs, Temporal db, process logs); wiped at the start of each run. */
  workDir: string;
  /** Where the ledger JSON and the run log go. */
  resultsDir: string;
  /** `embedded` (default: one broker, Temporal dev server) or `cluster` (3 brokers RF 3, 2 Temporal servers on PostgreSQL). */
  topology: 'embedded' | 'cluster';
}

/** Defaults of `npm run chaos`: 5,000 notifications at 25/s (about 3.5 minutes of load) with a fault every ~10 s. */
export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  count: 5_000,
  rate: 25,
  seed: 42,
  channels: ['email', 'sms', 'slack'],
  idempotentShare: 0.2,
  fallbackShare: 0.2,
  faults: [...DEFAULT_FAULT_KINDS],
  faultGapMs: 10_000,
  faultDurationMs: [5_000, 15_000],
  ingestConsumers: 2,
  workersPerChannel: 2,
  drainTimeoutMs: 600_000,
  settleMs: 10_000,
  maxSubmitAttempts: 12,
  requestTimeoutMs: 15_000,
  portBase: 20_000,
  workDir: '.notify/chaos',
  resultsDir: 'chaos-results',
  topology: 'embedded',
};

/** Text of `--help`. */
export const CHAOS_USAGE = `Usage: npm run chaos -- [flags]

Runs the whole notify pipeline as separate processes on private Kafka/Temporal instances, submits notifications at
a steady open-loop rate while injecting faults on a seeded schedule, then prints the delivery ledger and writes it to
<results-dir>/ledger-<timestamp>.json. Exits 1 when an acknowledged notification was lost.

  --count N              notifications to submit (default ${DEFAULT_CHAOS_OPTIONS.count})
  --rate R               submissions per second, open loop (default ${DEFAULT_CHAOS_OPTIONS.rate})
  --seed S               seed of workload mix and fault schedule (default ${DEFAULT_CHAOS_OPTIONS.seed})
  --channels a,b         channels to use (default ${DEFAULT_CHAOS_OPTIONS.channels.join(',')})
  --idempotent-share F   share sent with an Idempotency-Key and re-sent 1-2 times (default ${DEFAULT_CHAOS_OPTIONS.idempotentShare})
  --fallback-share F     share with routing "fallback" over two channels (default ${DEFAULT_CHAOS_OPTIONS.fallbackShare})
  --faults k1,k2         fault kinds (default ${DEFAULT_CHAOS_OPTIONS.faults.join(',')};
                         also available: ${CHAOS_FAULT_KINDS.filter((k) => !DEFAULT_FAULT_KINDS.includes(k)).join(', ')};
                         ${CLUSTER_ONLY_FAULT_KINDS.join(', ')} need --topology cluster)
  --fault-gap SEC        mean pause between faults (default ${DEFAULT_CHAOS_OPTIONS.faultGapMs / 1000})
  --fault-duration A:B   duration range of one fault in seconds (default ${DEFAULT_CHAOS_OPTIONS.faultDurationMs.map((v) => v / 1000).join(':')})
  --ingest N             ingest consumer processes (default ${DEFAULT_CHAOS_OPTIONS.ingestConsumers})
  --workers N            worker processes per channel (default ${DEFAULT_CHAOS_OPTIONS.workersPerChannel})
  --drain-timeout SEC    how long to wait for deliveries after the faults stop (default ${DEFAULT_CHAOS_OPTIONS.drainTimeoutMs / 1000})
  --settle SEC           extra wait after the drain to count late duplicates (default ${DEFAULT_CHAOS_OPTIONS.settleMs / 1000})
  --max-attempts N       HTTP attempts per submission (default ${DEFAULT_CHAOS_OPTIONS.maxSubmitAttempts})
  --request-timeout SEC  timeout of one HTTP attempt (default ${DEFAULT_CHAOS_OPTIONS.requestTimeoutMs / 1000})
  --port-base N          port offset for the private services (default ${DEFAULT_CHAOS_OPTIONS.portBase}: Kafka 29092, Temporal 27233, gateway 23000)
  --work-dir DIR         private state, wiped at start (default ${DEFAULT_CHAOS_OPTIONS.workDir})
  --results-dir DIR      ledger and log output (default ${DEFAULT_CHAOS_OPTIONS.resultsDir})
  --topology T           embedded (default) or cluster: 3 Kafka brokers (RF 3, min ISR 2) and 2 Temporal servers on
                         PostgreSQL (cluster ports base+5000…base+5051); default faults then
                         ${DEFAULT_CLUSTER_FAULT_KINDS.join(',')}
  --help                 this text`;

function number(
  name: string,
  raw: string | undefined,
  fallback: number,
  check: (n: number) => boolean,
  hint: string,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`--${name} ${raw}: ${hint}`);
  return n;
}

/**
 * Parses command-line flags into options (`undefined` for `--help`). Bad values throw an error naming the flag and
 * the accepted form.
 */
export function parseChaosArgs(argv: string[], known: readonly string[]): ChaosOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      count: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      channels: { type: 'string' },
      'idempotent-share': { type: 'string' },
      'fallback-share': { type: 'string' },
      faults: { type: 'string' },
      'fault-gap': { type: 'string' },
      'fault-duration': { type: 'string' },
      ingest: { type: 'string' },
      workers: { type: 'string' },
      'drain-timeout': { type: 'string' },
      settle: { type: 'string' },
      'max-attempts': { type: 'string' },
      'request-timeout': { type: 'string' },
      'port-base': { type: 'string' },
      'work-dir': { type: 'string' },
      'results-dir': { type: 'string' },
      topology: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) return undefined;
  const d = DEFAULT_CHAOS_OPTIONS;
  const positiveInt = (n: number) => Number.isInteger(n) && n >= 1;
  const share = (n: number) => n >= 0 && n <= 1;
  const list = (raw: string | undefined) =>
    raw
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);

  const channels = list(values.channels) ?? d.channels;
  const unknownChannels = channels.filter((c) => !known.includes(c));
  if (unknownChannels.length > 0)
    throw new Error(
      `--channels: unknown or unsupported channel(s) ${unknownChannels.join(', ')}; use some of ${known.join(', ')}`,
    );
  if (channels.length === 0) throw new Error(`--channels: give at least one of ${known.join(', ')}`);

  const topology = values.topology ?? d.topology;
  if (topology !== 'embedded' && topology !== 'cluster')
    throw new Error(`--topology ${topology}: expected embedded or cluster`);
  const faults = list(values.faults) ?? (topology === 'cluster' ? [...DEFAULT_CLUSTER_FAULT_KINDS] : d.faults);
  const clusterOnly = faults.filter((f) => (CLUSTER_ONLY_FAULT_KINDS as readonly string[]).includes(f));
  if (topology === 'embedded' && clusterOnly.length > 0)
    throw new Error(`--faults: ${clusterOnly.join(', ')} need --topology cluster`);
  const unknownFaults = faults.filter((f) => !(CHAOS_FAULT_KINDS as readonly string[]).includes(f));
  if (unknownFaults.length > 0)
    throw new Error(
      `--faults: unknown fault kind(s) ${unknownFaults.join(', ')}; known: ${CHAOS_FAULT_KINDS.join(', ')}`,
    );

  let faultDurationMs = d.faultDurationMs;
  if (values['fault-duration'] !== undefined) {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(values['fault-duration']);
    if (m === null || Number(m[1]) > Number(m[2]) || Number(m[1]) <= 0) {
      throw new Error(
        `--fault-duration ${values['fault-duration']}: expected MIN:MAX seconds with 0 < MIN <= MAX, e.g. 5:15`,
      );
    }
    faultDurationMs = [Number(m[1]) * 1000, Number(m[2]) * 1000];
  }
  const seconds = (name: string, raw: string | undefined, fallbackMs: number) =>
    number(name, raw, fallbackMs / 1000, (n) => n >= 0, 'expected a number of seconds ≥ 0') * 1000;

  return {
    count: number('count', values.count, d.count, positiveInt, 'expected a whole number ≥ 1'),
    rate: number('rate', values.rate, d.rate, (n) => n > 0, 'expected submissions per second > 0, e.g. 25'),
    seed: number('seed', values.seed, d.seed, Number.isInteger, 'expected an integer'),
    channels,
    idempotentShare: number(
      'idempotent-share',
      values['idempotent-share'],
      d.idempotentShare,
      share,
      'expected a fraction between 0 and 1, e.g. 0.2',
    ),
    fallbackShare: number(
      'fallback-share',
      values['fallback-share'],
      d.fallbackShare,
      share,
      'expected a fraction between 0 and 1, e.g. 0.2',
    ),
    faults: faults as ChaosFaultKind[],
    faultGapMs: seconds('fault-gap', values['fault-gap'], d.faultGapMs),
    faultDurationMs,
    ingestConsumers: number('ingest', values.ingest, d.ingestConsumers, positiveInt, 'expected a whole number ≥ 1'),
    workersPerChannel: number(
      'workers',
      values.workers,
      d.workersPerChannel,
      positiveInt,
      'expected a whole number ≥ 1',
    ),
    drainTimeoutMs: seconds('drain-timeout', values['drain-timeout'], d.drainTimeoutMs),
    settleMs: seconds('settle', values.settle, d.settleMs),
    maxSubmitAttempts: number(
      'max-attempts',
      values['max-attempts'],
      d.maxSubmitAttempts,
      positiveInt,
      'expected a whole number ≥ 1',
    ),
    requestTimeoutMs: seconds('request-timeout', values['request-timeout'], d.requestTimeoutMs),
    portBase: number(
      'port-base',
      values['port-base'],
      d.portBase,
      (n) => portBaseProblem(n, topology) === undefined,
      values['port-base'] === undefined ? '' : (portBaseProblem(Number(values['port-base']), topology) ?? ''),
    ),
    workDir: values['work-dir'] ?? d.workDir,
    resultsDir: values['results-dir'] ?? d.resultsDir,
    topology,
  };
}
