import { context, propagation, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { AppConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';

/** Name of the tracer notify's own spans are created with (gateway, ingest, provider calls). */
export const TRACER_NAME = 'notify';

/** Options of {@link setupTracing}. */
export interface TracingOptions {
  /** `service.name` of every span this process exports. */
  serviceName: string;
  /** OTLP/HTTP collector base URL (spans go to `<endpoint>/v1/traces`). */
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
  /** More processors (tests pass an in-memory exporter's). Tracing is on when there is an endpoint or a processor. */
  spanProcessors?: SpanProcessor[];
}

/** The process's tracing: what the Temporal worker needs to export workflow spans, and a way to flush on shutdown. */
export interface Tracing {
  enabled: boolean;
  tracer: Tracer;
  resource: Resource;
  /** Every configured processor; workflow spans (recorded inside the sandbox) are handed to it by the worker. */
  spanProcessor: SpanProcessor;
  /** Exports what is buffered (call before asserting on an exporter, and on shutdown). */
  forceFlush(): Promise<void>;
  /** Flushes, then unregisters the global tracer provider and propagator. */
  shutdown(): Promise<void>;
}

/**
 * Sets up OpenTelemetry for this process: a tracer provider with the W3C `traceparent` propagator and
 * AsyncLocalStorage context, registered globally so that the Temporal interceptors and notify's own spans share it.
 * Without an endpoint or processor nothing is registered: all tracing calls stay no-ops (and cost nothing).
 */
export function setupTracing(options: TracingOptions): Tracing {
  const resource = Resource.default().merge(new Resource({ 'service.name': options.serviceName }));
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint !== undefined) {
    const url = `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url, headers: options.otlpHeaders ?? {} })));
  }
  if (processors.length === 0) {
    return {
      enabled: false,
      tracer: trace.getTracer(TRACER_NAME),
      resource,
      spanProcessor: new NoopSpanProcessor(),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  // Sets the global tracer provider, the W3C trace-context + baggage propagator and the AsyncLocalStorage context manager.
  provider.register();
  return {
    enabled: true,
    tracer: provider.getTracer(TRACER_NAME),
    resource,
    spanProcessor: provider.getActiveSpanProcessor(),
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** Parses OTEL_EXPORTER_OTLP_HEADERS (`k1=v1,k2=v2`, values may be percent-encoded as the OTel spec allows). */
export function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (value === undefined) return headers;
  for (const part of value.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new ConfigError([`OTEL_EXPORTER_OTLP_HEADERS: "${part.trim()}" is not key=value (use k1=v1,k2=v2)`]);
    headers[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return headers;
}

/** Tracing for one notify process from the configuration: on when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
export function tracingFromConfig(
  config: Pick<AppConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_HEADERS' | 'OTEL_SERVICE_NAME'>,
  role: string,
): Tracing {
  return setupTracing({
    serviceName: `${config.OTEL_SERVICE_NAME}-${role}`,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    otlpHeaders: parseOtlpHeaders(config.OTEL_EXPORTER_OTLP_HEADERS),
  });
}
