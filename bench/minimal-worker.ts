import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createMinimalActivities } from './minimal/activities.js';

/**
 * Workers of the minimal reference workflow (bench/minimal), as one process: argv[2] is a JSON
 * `{ address, namespace, prefix, workflowSlots, activitySlots, cachedWorkflows }` (the bench passes notify's own worker
 * settings, so both run with the same slots). Prints `minimal workers running` once polling.
 */
async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as {
    address: string;
    namespace: string;
    prefix: string;
    workflowSlots: number;
    activitySlots: number;
    cachedWorkflows: number;
  };
  const connection = await NativeConnection.connect({ address: o.address });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./minimal/workflows.ts', import.meta.url)),
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => console.warn(m),
      error: (m) => console.error(m),
    },
  });
  const workers = await Promise.all([
    Worker.create({
      connection,
      namespace: o.namespace,
      taskQueue: `${o.prefix}-minimal-wf`,
      workflowBundle,
      maxConcurrentWorkflowTaskExecutions: o.workflowSlots,
      maxCachedWorkflows: o.cachedWorkflows,
    }),
    Worker.create({
      connection,
      namespace: o.namespace,
      taskQueue: `${o.prefix}-minimal-act`,
      activities: createMinimalActivities(),
      maxConcurrentActivityTaskExecutions: o.activitySlots,
    }),
  ]);
  const running = Promise.all(workers.map((w) => w.run()));
  console.log('minimal workers running');
  const stop = () => {
    for (const w of workers) w.shutdown();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await running;
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
