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
  /**
   * False when this process exports no spans (`Tracing.enabled`): the per-request span work (context extraction, a
   * span that records nothing, `traceparent` rewriting) is then skipped entirely; an incoming `traceparent` still
   * flows into the Kafka record unchanged. Default true.
   */
  tracingEnabled?: boolean;
}

/** The SERVER span of each request while it runs (only when tracing is enabled). */
const spans = new WeakMap<FastifyRequest, Span>();

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
  const tracingEnabled = observability.tracingEnabled !== false;
  // Label children per route/method/status: prom-client otherwise hashes the label object on every observation.
  const children = new Map<string, { requests: { inc(): void }; duration: { observe(v: number): void } }>();
  const childFor = (route: string, method: string, status: number) => {
    const key = `${route} ${method} ${status}`;
    let child = children.get(key);
    if (child === undefined) {
      const labels = { route, method, status: String(status) };
      child = { requests: metrics.httpRequests.labels(labels), duration: metrics.httpDuration.labels(labels) };
      children.set(key, child);
    }
    return child;
  };

  // Without tracing the request needs no per-request state: fastify's own `reply.elapsedTime` times it, so no
  // onRequest hook runs at all on the hot path.
  if (tracingEnabled) {
    app.addHook('onRequest', (request, _reply, done) => {
      const route = routeOf(request);
      if (route !== '/metrics') {
        const parent = propagation.extract(ROOT_CONTEXT, request.headers);
        const span = tracer.startSpan(
          `${request.method} ${route}`,
          {
            kind: SpanKind.SERVER,
            attributes: {
              'http.request.method': request.method,
              'http.route': route,
              'url.path': request.url.split('?')[0] ?? '',
            },
          },
          parent,
        );
        if (span.isRecording()) {
          spans.set(request, span);
          const carrier: Record<string, string> = {};
          propagation.inject(trace.setSpan(parent, span), carrier);
          // Downstream (Kafka header) continues from this span instead of the caller's.
          if (carrier.traceparent !== undefined) request.headers.traceparent = carrier.traceparent;
          if (carrier.tracestate !== undefined) request.headers.tracestate = carrier.tracestate;
        }
      }
      done();
    });
  }

  app.addHook('onResponse', (request, reply, done) => {
    const child = childFor(routeOf(request), request.method, reply.statusCode);
    child.requests.inc();
    child.duration.observe(reply.elapsedTime / 1000);
    const span = tracingEnabled ? spans.get(request) : undefined;
    if (span !== undefined) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
}
