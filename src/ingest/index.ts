/** Kafka → Temporal ingest: validates records, dead-letters poison, starts one workflow per notification. */
export { IngestConsumer, recordHints } from './ingest-consumer.js';
export type { IngestEvent, IngestOptions, RecordHints, WorkflowStarter } from './ingest-consumer.js';
export { classifyRecord } from './classify.js';
export type { PoisonRecord, ValidRecord } from './classify.js';
export { buildWorkflowInput, isPermanentStartError } from './workflow-input.js';
export { OffsetTracker } from './offset-tracker.js';
export type { CommitFn, CommitTarget } from './offset-tracker.js';
