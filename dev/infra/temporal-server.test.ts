import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, tempDir } from '../../test/helpers/infra.js';
import { loadConfig } from '../../src/config/config.js';
import { SEARCH_ATTRIBUTES } from '../../src/shared/notification.js';
import { resolveInfraPaths } from './paths.js';
import { isProcessAlive, runningPid } from './process.js';
import type { TemporalServerOptions } from './temporal.js';
import { ensureTemporalCli, startTemporal, stopTemporal, temporalAddressFor } from './temporal.js';

/**
 * A private Temporal dev server (spare ports, temporary db file), separate from the one the global setup runs, so it
 * can be killed and restarted without disturbing other test files.
 */
const dir = tempDir('temporal');
const lines: string[] = [];
const log = (line: string): void => void lines.push(line);
let opts: TemporalServerOptions;

beforeAll(async () => {
  const config = loadConfig();
  const cli = await ensureTemporalCli({
    cliPath: config.TEMPORAL_CLI_PATH,
    binDir: resolveInfraPaths(config.NOTIFY_HOME).binDir,
    log,
  });
  const [port, uiPort] = await freePorts(2);
  opts = {
    cli,
    port: port!,
    uiPort: uiPort!,
    dbFile: join(dir, 'temporal.db'),
    namespace: 'persist-test',
    sqlitePragmas: config.TEMPORAL_SQLITE_PRAGMAS,
    logFile: join(dir, 'temporal.log'),
    pidFile: join(dir, 'temporal.pid'),
  };
});

afterAll(async () => {
  if (opts) await stopTemporal(opts);
  rmSync(dir, { recursive: true, force: true });
});

async function withClient<T>(fn: (client: Client, connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: temporalAddressFor(opts.port) });
  try {
    return await fn(new Client({ connection, namespace: opts.namespace }), connection);
  } finally {
    await connection.close();
  }
}

async function waitForDeath(pid: number): Promise<void> {
  for (let i = 0; i < 200 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  expect(isProcessAlive(pid)).toBe(false);
}

describe('Temporal dev server lifecycle', () => {
  it('keeps a started workflow and the namespace across a SIGKILL and a restart on the same db file', async () => {
    const first = await startTemporal(opts, log);
    expect(first.started).toBe(true);

    const workflowId = `persist-${Date.now()}`;
    // No worker polls this task queue: the workflow just sits in the db as "running".
    await withClient((client) =>
      client.workflow.start('nobodyRunsThis', { taskQueue: 'nobody-polls', workflowId, args: [{ n: 1 }] }),
    );

    process.kill(first.pid, 'SIGKILL');
    await waitForDeath(first.pid);
    expect(runningPid(opts.pidFile, opts.dbFile)).toBeUndefined();

    const second = await startTemporal(opts, log);
    expect(second.started).toBe(true);
    expect(second.pid).not.toBe(first.pid);

    await withClient(async (client, connection) => {
      const description = await client.workflow.getHandle(workflowId).describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.type).toBe('nobodyRunsThis');
      expect(description.taskQueue).toBe('nobody-polls');
      const attrs = await connection.operatorService.listSearchAttributes({ namespace: opts.namespace });
      for (const attr of Object.values(SEARCH_ATTRIBUTES))
        expect(Object.keys(attrs.customAttributes ?? {})).toContain(attr.name);
    });
  });

  it('reuses a running server instead of starting a second one', async () => {
    const pid = runningPid(opts.pidFile, opts.dbFile);
    expect(pid).toBeDefined();
    const again = await startTemporal(opts, log);
    expect(again).toEqual({ pid, started: false });
  });

  it('stops with SIGTERM and reports a second stop as not running', async () => {
    const pid = runningPid(opts.pidFile, opts.dbFile)!;
    expect(await stopTemporal(opts)).toBe('stopped');
    expect(isProcessAlive(pid)).toBe(false);
    expect(await stopTemporal(opts)).toBe('not-running');
  });

  it('refuses to start on a port another process listens on, naming the setting to change', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(opts.port, '127.0.0.1', r));
    try {
      await expect(startTemporal(opts, log)).rejects.toThrow(
        new RegExp(`port ${opts.port} \\(TEMPORAL_PORT\\) is already in use`),
      );
      expect(runningPid(opts.pidFile, opts.dbFile)).toBeUndefined();
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });
});

describe('ensureTemporalCli', () => {
  it('explains how to proceed when there is neither a CLI nor Go', async () => {
    const empty = tempDir('nocli');
    try {
      await expect(
        ensureTemporalCli({
          binDir: empty,
          log,
          pathCommand: 'notify-no-such-temporal',
          goCommand: join(empty, 'no-go'),
        }),
      ).rejects.toThrow(
        'Go not found: install Go ≥1.25, or put the temporal CLI on PATH / set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to an existing server',
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('rejects a TEMPORAL_CLI_PATH that does not run', async () => {
    await expect(ensureTemporalCli({ cliPath: '/nonexistent/temporal', binDir: dir, log })).rejects.toThrow(
      /TEMPORAL_CLI_PATH=\/nonexistent\/temporal does not run/,
    );
  });
});
