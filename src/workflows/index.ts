/** Workflow definitions registered by the workflow worker (its `workflowsPath` points at this module). */
export {
  notificationWorkflow,
  cancelSignal,
  retrySignal,
  statusQuery,
  PERMANENT_FAILURE_TYPE,
} from './notification-workflow.js';
export { eventDeliveryWorkflow } from './events.js';
