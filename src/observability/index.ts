/** Observability: Prometheus metrics, OpenTelemetry tracing across HTTP → Kafka → Temporal → provider, lag polling. */
export { fetchConsumerLag, startLagPoller } from './consumer-lag.js';
export type { LagPollerOptions } from './consumer-lag.js';
export { instrumentGateway } from './gateway.js';
export type { GatewayObservability } from './gateway.js';
export { createGatewayMetrics, createIngestMetrics, createMetricsRegistry, createWorkerMetrics } from './metrics.js';
export type { GatewayMetrics, IngestMetrics, WorkerMetrics } from './metrics.js';
export { fetchExposition, startMetricsServer, startMetricsServerOrWarn } from './metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.js';
export { activityTracingInterceptors, OTEL_WORKFLOW_INTERCEPTORS_MODULE, workflowTracingSinks } from './temporal.js';
export type { WorkerTracing } from './temporal.js';
export { contextFromKafkaHeaders, kafkaHeaderGetter } from './propagation.js';
export { parseOtlpHeaders, setupTracing, TRACER_NAME, tracingFromConfig } from './tracing.js';
export type { Tracing, TracingOptions } from './tracing.js';
