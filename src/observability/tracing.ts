import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type * as TraceNode from '@opentelemetry/sdk-trace-node';
import type { AppConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';

/**
 * The OpenTelemetry SDK packages are loaded only when tracing is on: together they take 0.5 s (idle box) to 1.5 s
 * (loaded) to load, which every process start — above all a restarted worker — otherwise pays for nothing.
 * `require` keeps `setupTracing` synchronous (the packages ship CommonJS builds).
 */
const lazyRequire = createRequire(import.meta.url);
const sdk = {
  resources: () => lazyRequire('@opentelemetry/resources') as typeof Resources,
  base: () => lazyRequire('@opentelemetry/sdk-trace-base') as typeof TraceBase,
  node: () => lazyRequire('@opentelemetry/sdk-trace-node') as typeof TraceNode,
  otlp: () => lazyRequire('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp,
};

/** A span processor that drops everything (tracing off), without loading the SDK for it. */
const NOOP_PROCESSOR: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

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
  /** `service.name` and the SDK's defaults (loaded on first use when tracing is off). */
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
  const makeResource = () => {
    const { Resource: R } = sdk.resources();
    return R.default().merge(new R({ 'service.name': options.serviceName }));
  };
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint !== undefined) {
    const url = `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
    const { BatchSpanProcessor } = sdk.base();
    const { OTLPTraceExporter } = sdk.otlp();
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url, headers: options.otlpHeaders ?? {} })));
  }
  if (processors.length === 0) {
    let resource: Resource | undefined;
    return {
      enabled: false,
      tracer: trace.getTracer(TRACER_NAME),
      get resource() {
        return (resource ??= makeResource());
      },
      spanProcessor: NOOP_PROCESSOR,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
  const resource = makeResource();
  const provider = new (sdk.node().NodeTracerProvider)({ resource, spanProcessors: processors });
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
