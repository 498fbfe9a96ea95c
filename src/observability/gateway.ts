import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { GatewayMetrics } from './metrics.js';
import { TRACER_NAME } from './tracing.js';

/** What the gateway is instrumented with; `buildApp` receives it from `main.ts` (or a test). */
export interface GatewayObservability {
  registry: Registry;
  metrics: GatewayMetrics;
  /** Defaults to the global tracer (a no-op unless tracing was set up). */
  tracer?: Tracer;
}

interface RequestTiming {
  started: bigint;
  span?: Span;
}

const timings = new WeakMap<FastifyRequest, RequestTiming>();

/** Route template (`/v1/notifications/:id`), never the raw URL, so that label cardinality stays bounded. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/**
 * Adds `GET /metrics` and per-request metrics and tracing to the gateway. Call before registering routes.
 *
 * Each request gets a SERVER span, child of an incoming `traceparent` if any. The span's own context then replaces
 * the request's `traceparent` header, which the notification routes copy into the Kafka record: so ingest, the
 * workflow and the provider call all join the HTTP request's trace.
 */
export function instrumentGateway(app: FastifyInstance, observability: GatewayObservability): void {
  const { metrics, registry } = observability;
  const tracer = observability.tracer ?? trace.getTracer(TRACER_NAME);

  app.addHook('onRequest', (request, _reply, done) => {
    const timing: RequestTiming = { started: process.hrtime.bigint() };
    const route = routeOf(request);
    if (route !== '/metrics') {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(
        `${request.method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] ?? '' } },
        parent,
      );
      if (span.isRecording()) {
        timing.span = span;
        const carrier: Record<string, string> = {};
        propagation.inject(trace.setSpan(parent, span), carrier);
        // Downstream (Kafka header) continues from this span instead of the caller's.
        if (carrier.traceparent !== undefined) request.headers.traceparent = carrier.traceparent;
        if (carrier.tracestate !== undefined) request.headers.tracestate = carrier.tracestate;
      }
    }
    timings.set(request, timing);
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const timing = timings.get(request);
    const labels = { route: routeOf(request), method: request.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    if (timing !== undefined) {
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - timing.started) / 1e9);
      if (timing.span !== undefined) {
        timing.span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) timing.span.setStatus({ code: SpanStatusCode.ERROR });
        timing.span.end();
      }
    }
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
}
