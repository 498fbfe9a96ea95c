import { defineConfig } from 'vitest/config';

/** The bench's own unit tests (no Kafka/Temporal needed): `npx vitest run --config bench/vitest.config.ts`. */
export default defineConfig({
  test: { include: ['bench/**/*.test.ts'], root: new URL('..', import.meta.url).pathname, testTimeout: 30_000 },
});
