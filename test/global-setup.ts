/**
 * Vitest global setup: makes sure the real Kafka, Temporal and PostgreSQL the tests talk to are up (reusing servers started by
 * `npm start` / `npm run infra -- start`, or the external ones named by KAFKA_BROKERS / TEMPORAL_ADDRESS), and hands
 * their endpoints to test files via `inject()`. Teardown stops only what this run started.
 */
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config/config.js';
import type { RunningInfra } from '../dev/infra/index.js';
import { ensureInfra } from '../dev/infra/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    temporalAddress: string;
    temporalNamespace: string;
    /** The `notify` database (embedded PostgreSQL unless DATABASE_URL is set). */
    databaseUrl: string;
  }
}

let infra: RunningInfra | undefined;

/** Ensures the infrastructure (installing it on the first run, with progress lines) and provides its endpoints. */
export async function setup(project: TestProject): Promise<void> {
  const config = loadConfig();
  infra = await ensureInfra(config, { log: (line) => console.log(`[infra] ${line}`) });
  project.provide('kafkaBrokers', infra.kafkaBrokers);
  project.provide('temporalAddress', infra.temporalAddress);
  project.provide('temporalNamespace', config.TEMPORAL_NAMESPACE);
  project.provide('databaseUrl', infra.databaseUrl);
}

/** Stops the servers this run started; servers that were already running are left as they were. */
export async function teardown(): Promise<void> {
  await infra?.stop();
  infra = undefined;
}
