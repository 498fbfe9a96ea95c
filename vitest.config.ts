import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'dev/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: integration files start Temporal workers and Kafka consumers; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
