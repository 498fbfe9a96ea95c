import { createRequire } from 'node:module';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Tracing } from './tracing.js';

/** What a Temporal worker needs to trace: the processor workflow spans go to and the process's resource. */
export type WorkerTracing = Pick<Tracing, 'spanProcessor' | 'resource'>;

/**
 * Workflow interceptor module of `@temporalio/interceptors-opentelemetry` (OpenTelemetry JS SDK 1.x). It must be
 * bundled with the workflow code: it continues the trace from the workflow start headers and hands the trace context
 * to every activity it schedules.
 */
export const OTEL_WORKFLOW_INTERCEPTORS_MODULE = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/** The sink through which spans recorded inside the workflow sandbox are exported by the worker. */
export function workflowTracingSinks(tracing: WorkerTracing): { exporter: ReturnType<typeof makeWorkflowExporter> } {
  return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) };
}

/** Activity interceptors: each activity runs in a span that is a child of the workflow's, with trace ids in logs. */
export function activityTracingInterceptors(): ActivityInterceptorsFactory[] {
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}
