/** Temporal workers: the notification workflow worker and one activity worker per channel. */
export { createChannelWorker, createWorkflowWorker, workflowBundle, WORKFLOWS_PATH } from './create-workers.js';
export type { ChannelWorkerOptions, WorkflowWorkerOptions } from './create-workers.js';
export { installTemporalRuntime, temporalLogAdapter } from './install-runtime.js';
