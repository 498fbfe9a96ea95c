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
  KAFKA_HEAP: z.string().regex(/^\d+[mMgG]$/).default('512m'),
  KAFKA_VERSION: z.string().default('4.1.1'),

  SINKS_HOST: z.string().default('127.0.0.1'),
  SINKS_HTTP_PORT: int(4010, 0, 65535),
  SINKS_SMTP_PORT: int(2525, 0, 65535),
});
