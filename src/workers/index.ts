/** Temporal workers: the notification workflow worker and one activity worker per channel. */
export {
  createChannelWorker,
  createEventsWorker,
  createWorkflowWorker,
  workflowBundle,
  WORKFLOWS_PATH,
} from './create-workers.js';
export { bundleHash, loadOrBuildBundle, workflowBundleDir, workflowSourceFiles } from './workflow-bundle-cache.js';
export type { BundleInputs, CachedBundle } from './workflow-bundle-cache.js';
export type { ChannelWorkerOptions, EventsWorkerOptions, WorkflowWorkerOptions } from './create-workers.js';
export { installTemporalRuntime, temporalLogAdapter } from './install-runtime.js';
