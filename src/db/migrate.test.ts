import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ensureDatabase } from '../../dev/infra/postgres.js';
import { loadMigrations, migrate } from './migrate.js';
import { createPool } from './pool.js';

/** Migrations against the real PostgreSQL of the test setup, each test in a fresh database. */
const pools: pg.Pool[] = [];
const created: string[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.end();
});

async function freshDatabase(): Promise<string> {
  const name = `notify_mig_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(inject('databaseUrl'), name);
  created.push(name);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

describe('migrations', () => {
  it('applies each migration once when several processes start together', async () => {
    const url = await freshDatabase();
    const racers = Array.from({ length: 4 }, () => createPool(url, { max: 2 }));
    pools.push(...racers);
    const applied = await Promise.all(racers.map((pool) => migrate(pool)));
    const all = loadMigrations().map((m) => m.version);
    expect(applied.flat().sort()).toEqual(all);
    const { rows } = await racers[0]!.query<{ version: number }>(
      'SELECT version FROM notify_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(all);
    expect(await migrate(racers[0]!)).toEqual([]);
  });

  it('rolls a failing migration back entirely and records nothing', async () => {
    const url = await freshDatabase();
    const pool = createPool(url, { max: 1 });
    pools.push(pool);
    const dir = mkdtempSync(join(tmpdir(), 'notify-migrations-'));
    writeFileSync(join(dir, '001_ok.sql'), 'CREATE TABLE a (id int);');
    writeFileSync(join(dir, '002_broken.sql'), 'CREATE TABLE b (id int); SELECT * FROM no_such_table;');
    await expect(migrate(pool, loadMigrations(dir))).rejects.toThrow(/no_such_table/);
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('a', 'b', 'notify_migrations')",
    );
    expect(rows[0]?.n).toBe('0');
  });

  it('refuses migration files with a gap in their numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'notify-migrations-'));
    writeFileSync(join(dir, '001_a.sql'), 'SELECT 1;');
    writeFileSync(join(dir, '003_c.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow(/without gaps/);
  });
});
