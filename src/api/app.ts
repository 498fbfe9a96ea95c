import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { AesGcmPayloadCodec } from '../crypto/payload-codec.js';
import { instrumentGateway } from '../observability/gateway.js';
import { AcceptanceCache } from './acceptance-cache.js';
import { createErrorHandler, errorBody } from './errors.js';
import { authPlugin } from './plugins/auth.js';
import { codecRoutesPlugin, isLoopbackHost } from './plugins/codec-routes.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { withOpenApiExamples } from './openapi-examples.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerNotificationRoutes } from './routes/notifications.js';
import { registerRecipientRoutes } from './routes/recipients.js';
import { registerWebhookEndpointRoutes } from './routes/webhook-endpoints.js';
import { registerTemplateRoutes } from './routes/templates.js';
import { Submitter } from './submitter.js';
import type { GatewayDeps } from './types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route that only answers 405 for its path (reserved, not a resource method): left out of every Allow header. */
    methodNotAllowed?: boolean;
  }
}

/**
 * Builds the gateway: validation from the channel registry, OpenAPI at `/openapi.json`, Swagger UI at `/docs`,
 * submissions answered 202 only after Kafka acknowledged them. Dependencies are injected so tests can use real
 * Kafka/Temporal or fakes as they need.
 */
export async function buildApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: deps.config.HTTP_BODY_LIMIT_BYTES,
    requestTimeout: deps.config.HTTP_REQUEST_TIMEOUT_MS,
    // Per-request access logs would dominate CPU at thousands of requests/s; metrics cover requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Long enough that an over-long id reaches validation (a documented 400) instead of fastify's bare 414.
    routerOptions: { maxParamLength: 500 },
  });
  // JSON only: anything else (text/plain included, which Fastify parses by default) is 415.
  app.removeContentTypeParser('text/plain');
  // First, so that the hooks cover every route registered below.
  if (deps.observability !== undefined) instrumentGateway(app, deps.observability);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Known path, other method → 405 with Allow (RFC 9110), not 404.
  const routes: Array<{ pattern: RegExp; method: string; fixed: boolean }> = [];
  app.addHook('onRoute', (route) => {
    if (route.config?.methodNotAllowed === true) return;
    const pattern = new RegExp(
      `^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}/?$`,
    );
    const fixed = !/[:*]/.test(route.url);
    for (const method of Array.isArray(route.method) ? route.method : [route.method])
      routes.push({ pattern, method, fixed });
  });
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '';
    const matching = routes.filter((r) => r.pattern.test(path));
    // A fixed path (`/v1/notifications/batch`) is its own resource: a parameter route it also matches (`/:id`) does not
    // add methods to its Allow.
    const fixed = matching.filter((r) => r.fixed);
    const allowed = [...new Set((fixed.length > 0 ? fixed : matching).map((r) => r.method))];
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(
          errorBody(
            405,
            'METHOD_NOT_ALLOWED',
            `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
          ),
        );
    }
    return reply.code(404).send(errorBody(404, 'NOT_FOUND', `No route ${request.method} ${path}`));
  };
  app.setNotFoundHandler(notFound);
  const errorHandler = createErrorHandler(deps.logger);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // A body-carrying method fastify knows (e.g. QUERY) without Content-Type fails before routing: on a path that does
    // not serve that method, the truthful answer is still 405 (or 404), not 400.
    if (
      err.code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE' &&
      !routes.some((r) => r.method === request.method && r.pattern.test(request.url.split('?')[0] ?? ''))
    ) {
      return notFound(request, reply);
    }
    return errorHandler(err, request, reply);
  });
  // Security: identify the caller, then rate-limit per client, then (preParsing) enforce each route's scope.
  await app.register(securityHeadersPlugin);
  await app.register(authPlugin, { settings: deps.auth, logger: deps.logger });
  await app.register(rateLimitPlugin, {
    max: deps.config.RATE_LIMIT_MAX,
    windowMs: deps.config.RATE_LIMIT_WINDOW_MS,
    unauthenticatedMax: deps.config.RATE_LIMIT_UNAUTHENTICATED_MAX,
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'notify',
        version: '1.0.0',
        description:
          'Durable notification sending. A 202 means the notification is durably stored in Kafka; delivery is at least once, ' +
          'deduplicated by notification id.',
      },
      tags: [
        { name: 'notifications' },
        { name: 'recipients' },
        { name: 'suppressions' },
        { name: 'webhook-endpoints', description: 'Delivery events to the caller (outbound webhooks)' },
        { name: 'templates' },
        { name: 'health' },
        { name: 'codec' },
      ],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'nfy_…',
            description:
              'An API key from API_KEYS (`npm run keys -- new <name>`); Swagger UI: "Authorize", paste the key without "Bearer ".',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    // zod → JSON Schema, plus the examples Swagger UI's "Try it out" and generated clients start from.
    transform: (input) => withOpenApiExamples(jsonSchemaTransform(input), input.route.method),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  const cache = new AcceptanceCache();
  const submitter = new Submitter(deps, cache);
  registerHealthRoutes(app, deps);
  registerNotificationRoutes(app, deps, submitter, cache);
  if (deps.recipients !== undefined) registerRecipientRoutes(app, deps.recipients);
  if (deps.webhookEndpoints !== undefined) registerWebhookEndpointRoutes(app, deps.webhookEndpoints);
  if (deps.templates !== undefined) registerTemplateRoutes(app, deps.templates);
  // Without this, GET /v1/notifications/batch would be a status lookup of a notification with id "batch" (a 404):
  // it is the batch resource, which only takes POST, so it answers 405 with Allow: POST like any other method.
  app.get('/v1/notifications/batch', { schema: { hide: true }, config: { methodNotAllowed: true } }, notFound);
  if (deps.payloadKeyring !== undefined) {
    await app.register(codecRoutesPlugin, {
      codec: new AesGcmPayloadCodec(deps.payloadKeyring),
      allowedOrigin: new URL(deps.config.TEMPORAL_UI_URL).origin,
      // The embedded dev Web UI has no login and cannot send a bearer token: in development, with the gateway bound to
      // loopback, let that one origin decode from this machine. Production always needs an admin key.
      openToUiOnLoopback: deps.config.NOTIFY_ENV === 'development' && isLoopbackHost(deps.config.HTTP_HOST),
    });
  }
  return app;
}
