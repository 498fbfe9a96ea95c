import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';

/** Folder of the numbered migrations (`001_name.sql`, `002_…`), applied in order, each exactly once. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Arbitrary constant: the advisory lock every notify process takes while it migrates. */
const MIGRATION_LOCK_KEY = 724_311_014;

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations in `dir`, ordered by version; a gap or a duplicate version is an error (a merge mistake). */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = /^(\d+)_([a-z0-9_-]+)\.sql$/.exec(file);
      if (m === null) throw new Error(`Migration file ${file} must be named NNN_name.sql`);
      return { version: Number(m[1]), name: m[2] ?? file, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`Migrations must be numbered 1, 2, 3… without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

/**
 * Brings the schema up to date: in one transaction holding a transaction-scoped advisory lock (so processes starting
 * together apply each migration once, the others wait and then see it applied), every migration newer than the
 * recorded version runs and is recorded in `notify_migrations`. Returns the versions applied by this call.
 */
export async function migrate(pool: pg.Pool, migrations: Migration[] = loadMigrations()): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS notify_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM notify_migrations')).rows.map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO notify_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Start-up migration that does not make the process depend on the database being up: on failure it is logged and
 * retried in the background (every 5 s) until it succeeds. Deliveries meanwhile wait (their resolution is retried).
 */
export async function migrateWhenReachable(pool: pg.Pool, logger: Logger, retryMs = 5_000): Promise<void> {
  try {
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } catch (err) {
    logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      `database not ready; migrating again in ${retryMs} ms`,
    );
    setTimeout(() => void migrateWhenReachable(pool, logger, retryMs), retryMs).unref();
  }
}
