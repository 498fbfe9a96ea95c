import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { resolveNotifyHome } from '../runtime/notify-home.js';

/** Settings the database layer reads from the configuration. */
export interface DatabaseConfig {
  DATABASE_URL?: string;
  DATABASE_POOL_MAX: number;
  POSTGRES_PORT: number;
  NOTIFY_HOME?: string;
}

/**
 * The database URL: DATABASE_URL, else the `notify` database of the embedded development server (`npm start`,
 * `npm run infra -- start`), whose superuser password is kept in NOTIFY_HOME. Throws naming the fix when neither exists.
 */
export function resolveDatabaseUrl(config: DatabaseConfig): string {
  if (config.DATABASE_URL !== undefined) return config.DATABASE_URL;
  const passwordFile = join(resolveNotifyHome(config.NOTIFY_HOME), 'postgres-password');
  if (!existsSync(passwordFile)) {
    throw new Error(
      'DATABASE_URL is not set and the embedded PostgreSQL was never started: set DATABASE_URL, or run `npm run infra -- start` (or `npm start`).',
    );
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${config.POSTGRES_PORT}/notify`;
}

/**
 * A connection pool (created only by entry points and tests, passed down). Connections that break while the server
 * restarts are discarded by `pg`; the next query opens a fresh one. Idle-client errors are logged, never fatal.
 */
export function createPool(url: string, options: { max?: number; logger?: Logger } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A query on a dead connection fails instead of hanging (the server side of a restart).
    query_timeout: 10_000,
    keepAlive: true,
  });
  pool.on('error', (err) => options.logger?.warn({ err: { message: err.message } }, 'idle database connection failed'));
  return pool;
}
