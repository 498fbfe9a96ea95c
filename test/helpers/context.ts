import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    temporalAddress: string;
    temporalNamespace: string;
  }
}

/** Endpoints of the real Kafka and Temporal the global setup ensured, plus a unique prefix for this test file. */
export function testEnvironment(): { kafkaBrokers: string[]; temporalAddress: string; namespace: string; prefix: string } {
  return {
    kafkaBrokers: inject('kafkaBrokers'),
    temporalAddress: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    prefix: uniquePrefix(),
  };
}

/** A short unique lowercase prefix for topics, groups, task queues and ids of one test. */
export function uniquePrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}
