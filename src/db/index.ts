/** PostgreSQL access: the pool entry points create, versioned migrations. */
export type { DatabaseConfig } from './pool.js';
export { createPool, resolveDatabaseUrl } from './pool.js';
export type { Migration } from './migrate.js';
export { loadMigrations, migrate, migrateWhenReachable, MIGRATIONS_DIR } from './migrate.js';
