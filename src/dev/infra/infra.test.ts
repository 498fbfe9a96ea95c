import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, tempDir } from '../../../test/helpers/infra.js';
import type { InfraConfig } from './infra.js';
import { ensureInfra, infraStatus, stopInfra, wipeInfra } from './infra.js';
import { resolveInfraPaths } from './paths.js';

/** The orchestration commands against an empty private NOTIFY_HOME and ports nothing listens on. */
const home = tempDir('home');
let config: InfraConfig;

beforeAll(async () => {
  const [tp, tui, kp, kc] = await freePorts(4);
  config = {
    NOTIFY_HOME: home,
    KAFKA_BROKERS: undefined,
    TEMPORAL_ADDRESS: undefined,
    TEMPORAL_NAMESPACE: 'notify',
    TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    TEMPORAL_CLI_PATH: undefined,
    TEMPORAL_PORT: tp!,
    TEMPORAL_UI_PORT: tui!,
    TEMPORAL_SQLITE_PRAGMAS: ['journal_mode=WAL'],
    KAFKA_PORT: kp!,
    KAFKA_CONTROLLER_PORT: kc!,
    KAFKA_HEAP: '256m',
    KAFKA_VERSION: '4.1.1',
  };
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('infra commands on an empty home', () => {
  it('reports both components as embedded, not installed, stopped and not ready', async () => {
    const statuses = await infraStatus(config);
    expect(statuses.map((s) => [s.name, s.mode, s.installed, s.running, s.ready])).toEqual([
      ['kafka', 'embedded', false, false, false],
      ['temporal', 'embedded', false, false, false],
    ]);
    expect(statuses[0]?.address).toBe(`127.0.0.1:${config.KAFKA_PORT}`);
    expect(statuses[1]?.address).toBe(`127.0.0.1:${config.TEMPORAL_PORT}`);
  });

  it('stops idempotently when nothing runs', async () => {
    expect(await stopInfra(config)).toEqual({ kafka: 'not-running', temporal: 'not-running' });
    expect(await stopInfra(config)).toEqual({ kafka: 'not-running', temporal: 'not-running' });
  });

  it('wipes data but keeps the cached CLI and jars unless --all', async () => {
    const paths = resolveInfraPaths(home);
    for (const d of [paths.binDir, paths.kafkaLib, paths.kafkaData, paths.logsDir]) mkdirSync(d, { recursive: true });
    writeFileSync(paths.temporalDb, 'x');
    writeFileSync(join(paths.binDir, 'temporal'), 'x');
    await wipeInfra(config);
    expect(existsSync(paths.dataDir)).toBe(false);
    expect(existsSync(paths.logsDir)).toBe(false);
    expect(existsSync(join(paths.binDir, 'temporal'))).toBe(true);
    expect(existsSync(paths.kafkaLib)).toBe(true);
    await wipeInfra(config, { all: true });
    expect(existsSync(paths.binDir)).toBe(false);
    expect(existsSync(paths.kafkaDir)).toBe(false);
    expect(existsSync(home)).toBe(true); // NOTIFY_HOME itself may be a user folder: never removed
  });
});

describe('external servers', () => {
  it('names both variables when KAFKA_BROKERS and TEMPORAL_ADDRESS point at nothing, and starts nothing', async () => {
    const external = { ...config, KAFKA_BROKERS: [`127.0.0.1:${config.KAFKA_PORT}`], TEMPORAL_ADDRESS: `127.0.0.1:${config.TEMPORAL_PORT}` };
    const failure = ensureInfra(external, { externalTimeoutMs: 500 });
    await expect(failure).rejects.toThrow(/KAFKA_BROKERS=127\.0\.0\.1:\d+ is not reachable[\s\S]*TEMPORAL_ADDRESS=127\.0\.0\.1:\d+ is not reachable/);
    const paths = resolveInfraPaths(home);
    expect(existsSync(paths.kafkaLib)).toBe(false);
    expect(existsSync(paths.binDir)).toBe(false);
    const statuses = await infraStatus(external);
    expect(statuses.map((s) => [s.mode, s.ready])).toEqual([
      ['external', false],
      ['external', false],
    ]);
  });
});
