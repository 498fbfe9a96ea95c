/** Workflow definitions registered by the workflow worker (its `workflowsPath` points at this module). */
export {
  notificationWorkflow,
  cancelSignal,
  retrySignal,
  statusQuery,
  PERMANENT_FAILURE_TYPE,
} from './notification-workflow.js';
export { eventDeliveryWorkflow } from './events.js';
export {
  digestWorkflow,
  digestAddSignal,
  digestAssignedSignal,
  digestOutcomeSignal,
  digestStatusQuery,
} from './digest-workflow.js';
export type { DigestView } from './digest-workflow.js';
