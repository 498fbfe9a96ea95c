import { defineConfig } from 'vitest/config';

/**
 * Test files that need nothing but Node: no Kafka, no Temporal, no Java/Go/Python/openssl, no global setup.
 * `npm run test:unit` runs only these (seconds, on a clone with just Node); everything else is `integration`.
 * A new test file is integration unless listed here.
 */
export const UNIT_TESTS = [
  'src/activities/to-failure.test.ts',
  'src/activities/template-render.test.ts',
  'src/api/app.test.ts',
  'src/api/acceptance-cache.test.ts',
  'src/api/plugins/auth.test.ts',
  'src/auth/api-keys.test.ts',
  'src/auth/dev-defaults.test.ts',
  'src/channels/registry.test.ts',
  'src/channels/slack/slack.test.ts',
  'src/channels/sms/sms.test.ts',
  'src/channels/webhook/webhook.test.ts',
  'src/config/**/*.test.ts',
  'src/crypto/keyring.test.ts',
  'src/events/endpoint-presence.test.ts',
  'src/events/signing.test.ts',
  'src/ingest/offset-tracker.test.ts',
  'src/ingest/workflow-input.test.ts',
  'src/kafka/batching-producer-deadlines.test.ts',
  'src/kafka/kafkajs-request-queue-fix.test.ts',
  'src/kafka/partitioner.test.ts',
  'src/kafka/topics.test.ts',
  'src/observability/metrics-server.test.ts',
  'src/shared/**/*.test.ts',
  'src/templates/template-store.test.ts',
  'src/api/templates-routes.test.ts',
  'dev/infra/generated-config.test.ts',
  'dev/sinks/sinks.test.ts',
  'test/bad-input/ingest.test.ts',
  'test/replay/replay.test.ts',
  'src/channels/circuit-breaker.test.ts',
  'src/channels/failover.test.ts',
  'src/channels/email/relays.test.ts',
  'src/activities/provider-outcomes.test.ts',
  'src/observability/worker-metrics.test.ts',
  'dev/process-harness/service-flags.test.ts',
  'dev/process-harness/npm-scripts.test.ts',
  // The bench's own logic (verdicts, statistics, wrk parsing, CPU budget): pure, so `npm test` guards it too.
  'bench/**/*.test.ts',
  'src/activities/heartbeats.test.ts',
];

const ALL_TESTS = ['src/**/*.test.ts', 'dev/**/*.test.ts', 'test/**/*.test.ts'];

/**
 * Files that run many servers at once (a 3-broker Kafka + 2 Temporal servers + PostgreSQL; a whole chaos cluster):
 * next to each other or to other integration files they starve the 2 cores and time each other out, so `npm test`
 * runs them after the rest, one file at a time (`vitest run --project heavy`).
 */
export const HEAVY_TESTS = [
  'test/cluster-topology.test.ts',
  'test/chaos.test.ts',
  'test/kafka-leader-failover.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: integration files start Temporal workers and Kafka consumers; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_TESTS } },
      {
        extends: true,
        // Real Kafka + Temporal, ensured (installed on first use) by the global setup.
        test: {
          name: 'integration',
          include: ALL_TESTS,
          exclude: [...UNIT_TESTS, ...HEAVY_TESTS],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'heavy', include: HEAVY_TESTS, globalSetup: ['test/global-setup.ts'], fileParallelism: false },
      },
    ],
  },
});
