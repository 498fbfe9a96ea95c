import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientIdOf } from '../plugins/auth.js';
import type { EndpointPresence, EndpointUrlRules, WebhookEndpointStore } from '../../events/index.js';
import { endpointUrlProblem } from '../../events/index.js';
import { errorSchema } from '../../schemas/notification.js';
import {
  eventDeliverySchema,
  webhookEndpointBodySchema,
  webhookEndpointSchema,
  webhookEndpointWithSecretSchema,
} from '../../schemas/webhook-endpoints.js';
import { ApiError } from '../errors.js';

/** What the webhook-endpoint routes need: the store, the SSRF rules and the rotation overlap. */
export interface WebhookEndpointDeps {
  store: WebhookEndpointStore;
  urlRules: EndpointUrlRules;
  /** How long the previous secret keeps signing after a rotation (WEBHOOK_EVENTS_SECRET_OVERLAP_MS). */
  secretOverlapMs: number;
  /**
   * Whether a client has an enabled endpoint, told to ingest with each accepted notification (no endpoint: no delivery
   * events, 8 fewer history events). These routes update it; absent: every notification emits events.
   */
  presence?: EndpointPresence;
  /** DNS resolution for the URL check (tests). */
  resolve?: (host: string) => Promise<Array<{ address: string }>>;
}

const params = z.object({ id: z.string().min(1).max(64).describe('Endpoint id (`we_…`).') });
const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  429: errorSchema,
  503: errorSchema,
};

/** Runs a database call; an unreachable database answers 503 with Retry-After (nothing was changed). */
async function db<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(
      503,
      'DATABASE_UNAVAILABLE',
      `The webhook endpoint database is unavailable: ${err instanceof Error ? err.message : String(err)}; retry later.`,
      undefined,
      { 'retry-after': '2' },
    );
  }
}

/**
 * Webhook endpoints for delivery events (`notification.*`, `delivery.*`), scoped by API key like notifications:
 * another client's endpoint answers 404. Writes need the `send` scope, reads `read`. The signing secret is shown in
 * the answers of create and rotate-secret only.
 */
export function registerWebhookEndpointRoutes(app: FastifyInstance, deps: WebhookEndpointDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const notFound = (id: string) =>
    new ApiError(404, 'WEBHOOK_ENDPOINT_NOT_FOUND', `No webhook endpoint ${id}`, [
      { path: 'id', message: 'no such webhook endpoint for this API key' },
    ]);

  r.post(
    '/v1/webhook-endpoints',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['webhook-endpoints'],
        summary: 'Register a webhook endpoint for delivery events',
        description:
          'Events of your notifications are POSTed to `url`, signed with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) under the endpoint secret returned here, once. ' +
          'The URL must pass the webhook channel SSRF rules (loopback, private, link-local … refused unless in WEBHOOK_ALLOWED_NETWORKS); an unknown event type is a 400 naming it.',
        body: webhookEndpointBodySchema,
        response: { 201: webhookEndpointWithSecretSchema, ...errors },
      },
    },
    async (request, reply) => {
      const problem = await endpointUrlProblem(request.body.url, deps.urlRules, deps.resolve);
      if (problem !== undefined)
        throw new ApiError(400, 'URL_NOT_ALLOWED', `url is not allowed: ${problem}`, [
          { path: 'url', message: problem },
        ]);
      const { endpoint, secret } = await db(() => deps.store.create(clientIdOf(request), request.body));
      deps.presence?.markPresent(clientIdOf(request));
      return reply
        .code(201)
        .header('location', `/v1/webhook-endpoints/${endpoint.id}`)
        .send({ ...endpoint, secret });
    },
  );

  r.get(
    '/v1/webhook-endpoints',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['webhook-endpoints'],
        summary: 'List your webhook endpoints',
        response: { 200: z.object({ endpoints: z.array(webhookEndpointSchema) }), ...errors },
      },
    },
    async (request) => ({ endpoints: await db(() => deps.store.list(clientIdOf(request))) }),
  );

  r.get(
    '/v1/webhook-endpoints/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['webhook-endpoints'],
        summary: 'Get a webhook endpoint',
        params,
        response: { 200: webhookEndpointSchema, ...errors },
      },
    },
    async (request) => {
      const endpoint = await db(() => deps.store.get(clientIdOf(request), request.params.id));
      if (endpoint === undefined) throw notFound(request.params.id);
      return endpoint;
    },
  );

  r.delete(
    '/v1/webhook-endpoints/:id',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['webhook-endpoints'],
        summary: 'Delete a webhook endpoint',
        description:
          'No further events are sent to it (pending deliveries stop at their next attempt); its delivery records are deleted.',
        params,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const existed = await db(() => deps.store.delete(clientIdOf(request), request.params.id));
      deps.presence?.forget(clientIdOf(request));
      if (!existed) throw notFound(request.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['webhook-endpoints'],
        summary: "Rotate an endpoint's signing secret",
        description:
          'Returns the new secret (shown only now). Until `previousSecretExpiresAt` (WEBHOOK_EVENTS_SECRET_OVERLAP_MS, default 24 h) deliveries carry two signatures, one per secret, so the receiver can switch without rejecting anything.',
        params,
        response: { 200: webhookEndpointWithSecretSchema, ...errors },
      },
    },
    async (request) => {
      const rotated = await db(() =>
        deps.store.rotateSecret(clientIdOf(request), request.params.id, deps.secretOverlapMs),
      );
      if (rotated === undefined) throw notFound(request.params.id);
      return { ...rotated.endpoint, secret: rotated.secret };
    },
  );

  r.post(
    '/v1/webhook-endpoints/:id/enable',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['webhook-endpoints'],
        summary: 'Enable an endpoint again after a 410 Gone disabled it',
        description:
          'A receiver that answers 410 Gone disables its endpoint (`status: disabled`, `disabledReason`). Once the receiver is back, this enables it: events emitted from now on are delivered; those dropped while it was disabled (`endpoint-disabled` in its deliveries) are not replayed. Enabling an enabled endpoint changes nothing.',
        params,
        response: { 200: webhookEndpointSchema, ...errors },
      },
    },
    async (request) => {
      const endpoint = await db(() => deps.store.enable(clientIdOf(request), request.params.id));
      if (endpoint === undefined) throw notFound(request.params.id);
      deps.presence?.markPresent(clientIdOf(request));
      return endpoint;
    },
  );

  r.get(
    '/v1/webhook-endpoints/:id/deliveries',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['webhook-endpoints'],
        summary: 'Deliveries of events to an endpoint, with every attempt',
        description:
          'Newest first. Each delivery is a Temporal workflow (`workflowId`) whose attempts and retry timers the Web UI shows too.',
        params,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ deliveries: z.array(eventDeliverySchema) }), ...errors },
      },
    },
    async (request) => {
      const deliveries = await db(() =>
        deps.store.listDeliveries(clientIdOf(request), request.params.id, request.query.limit),
      );
      if (deliveries === undefined) throw notFound(request.params.id);
      return { deliveries };
    },
  );
}
