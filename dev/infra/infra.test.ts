import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePorts, tempDir } from '../../test/helpers/infra.js';
import type { InfraConfig } from './infra.js';
import { ensureInfra, infraStatus, stopInfra, wipeInfra } from './infra.js';
import { resolveInfraPaths } from './paths.js';
import { runningPid } from './process.js';
import { ensureTemporalCli } from './temporal.js';

/** The orchestration commands against an empty private NOTIFY_HOME and ports nothing listens on. */
const home = tempDir('home');
let config: InfraConfig;

beforeAll(async () => {
  const [tp, tui, kp, kc, pp] = await freePorts(5);
  config = {
    NOTIFY_HOME: home,
    KAFKA_BROKERS: undefined,
    TEMPORAL_ADDRESS: undefined,
    TEMPORAL_NAMESPACE: 'notify',
    TEMPORAL_RETENTION_HOURS: 192,
    KAFKA_TOPIC_RETENTION_MS: 7 * 24 * 3600 * 1000,
    TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    TEMPORAL_CLI_PATH: undefined,
    TEMPORAL_PORT: tp!,
    TEMPORAL_UI_PORT: tui!,
    TEMPORAL_SQLITE_PRAGMAS: ['journal_mode=WAL'],
    KAFKA_PORT: kp!,
    KAFKA_CONTROLLER_PORT: kc!,
    KAFKA_HEAP: '256m',
    KAFKA_VERSION: '4.1.1',
    DATABASE_URL: undefined,
    POSTGRES_PORT: pp!,
  };
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('infra commands on an empty home', () => {
  it('reports every component as embedded, not installed, stopped and not ready', async () => {
    const statuses = await infraStatus(config);
    expect(statuses.map((s) => [s.name, s.mode, s.installed, s.running, s.ready])).toEqual([
      ['kafka', 'embedded', false, false, false],
      ['temporal', 'embedded', false, false, false],
      ['postgres', 'embedded', false, false, false],
    ]);
    expect(statuses[0]?.address).toBe(`127.0.0.1:${config.KAFKA_PORT}`);
    expect(statuses[1]?.address).toBe(`127.0.0.1:${config.TEMPORAL_PORT}`);
    expect(statuses[2]?.address).toBe(`127.0.0.1:${config.POSTGRES_PORT}`);
  });

  it('stops idempotently when nothing runs', async () => {
    expect(await stopInfra(config)).toEqual({ kafka: 'not-running', temporal: 'not-running', postgres: 'not-running' });
    expect(await stopInfra(config)).toEqual({ kafka: 'not-running', temporal: 'not-running', postgres: 'not-running' });
  });

  it('wipes data but keeps the cached CLI and jars unless --all', async () => {
    const paths = resolveInfraPaths(home);
    for (const d of [
      paths.binDir,
      paths.kafkaLib,
      paths.kafkaData,
      paths.logsDir,
      paths.postgresDir,
      paths.postgresData,
    ])
      mkdirSync(d, { recursive: true });
    writeFileSync(paths.temporalDb, 'x');
    writeFileSync(join(paths.binDir, 'temporal'), 'x');
    await wipeInfra(config);
    expect(existsSync(paths.dataDir)).toBe(false);
    expect(existsSync(paths.logsDir)).toBe(false);
    expect(existsSync(join(paths.binDir, 'temporal'))).toBe(true);
    expect(existsSync(paths.kafkaLib)).toBe(true);
    expect(existsSync(paths.postgresData)).toBe(false);
    expect(existsSync(paths.postgresDir)).toBe(true);
    await wipeInfra(config, { all: true });
    expect(existsSync(paths.postgresDir)).toBe(false);
    expect(existsSync(paths.binDir)).toBe(false);
    expect(existsSync(paths.kafkaDir)).toBe(false);
    expect(existsSync(home)).toBe(true); // NOTIFY_HOME itself may be a user folder: never removed
  });
});

describe('external servers', () => {
  it('names every variable when KAFKA_BROKERS, TEMPORAL_ADDRESS and DATABASE_URL point at nothing, and starts nothing', async () => {
    const external = {
      ...config,
      KAFKA_BROKERS: [`127.0.0.1:${config.KAFKA_PORT}`],
      TEMPORAL_ADDRESS: `127.0.0.1:${config.TEMPORAL_PORT}`,
      DATABASE_URL: `postgres://u:p@127.0.0.1:${config.POSTGRES_PORT}/notify`,
    };
    const failure = ensureInfra(external, { externalTimeoutMs: 500 });
    await expect(failure).rejects.toThrow(
      /KAFKA_BROKERS=127\.0\.0\.1:\d+ is not reachable[\s\S]*TEMPORAL_ADDRESS=127\.0\.0\.1:\d+ is not reachable[\s\S]*DATABASE_URL is not reachable/,
    );
    const paths = resolveInfraPaths(home);
    expect(existsSync(paths.kafkaLib)).toBe(false);
    expect(existsSync(paths.binDir)).toBe(false);
    expect(existsSync(paths.postgresDir)).toBe(false);
    const statuses = await infraStatus(external);
    expect(statuses.map((s) => [s.mode, s.ready])).toEqual([
      ['external', false],
      ['external', false],
      ['external', false],
    ]);
  });
});

describe('shared use of the embedded servers', () => {
  // A private Temporal under the temp home; Kafka and PostgreSQL are the ones the global setup provides (external here).
  let shared: InfraConfig;
  const temporalPid = (): number | undefined => {
    const paths = resolveInfraPaths(home);
    return runningPid(paths.temporalPid, paths.temporalDb);
  };

  beforeAll(async () => {
    const cli = await ensureTemporalCli({ binDir: resolveInfraPaths().binDir, log: () => undefined });
    shared = {
      ...config,
      KAFKA_BROKERS: inject('kafkaBrokers'),
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_CLI_PATH: cli,
    };
  });

  afterAll(async () => {
    await stopInfra(shared);
  });

  it('stops a server it started only when its last user releases it', async () => {
    const first = await ensureInfra(shared);
    expect(first.startedByUs).toEqual({ kafka: false, temporal: true, postgres: false });
    const second = await ensureInfra(shared);
    expect(second.startedByUs).toEqual({ kafka: false, temporal: false, postgres: false });
    expect(second.databaseUrl).toBe(inject('databaseUrl'));
    const pid = temporalPid();
    expect(pid).toBeDefined();

    await first.stop();
    expect(temporalPid()).toBe(pid); // still used by `second`
    await second.stop();
    expect(temporalPid()).toBeUndefined();
  });

  it('keeps servers started for `npm run infra -- start` running when a reusing caller stops', async () => {
    const permanent = await ensureInfra(shared, { keepRunning: true });
    expect(permanent.startedByUs.temporal).toBe(true);
    const user = await ensureInfra(shared);
    expect(user.startedByUs.temporal).toBe(false);
    await user.stop();
    await permanent.stop();
    expect(temporalPid()).toBeDefined();
    expect(await stopInfra(shared)).toEqual({ kafka: 'not-running', temporal: 'stopped', postgres: 'not-running' });
  });
});
