import { errorBody } from './errors.js';

/** OpenAPI examples of the webhook-endpoint routes (merged into the document's examples by `openapi-examples.ts`). */

const ENDPOINT_ID = 'we_019ad2c4e1b07f3a9c5e2d4b6a8f0c12';
const endpoint = {
  id: ENDPOINT_ID,
  url: 'https://example.com/hooks/notify-events',
  description: 'order service',
  eventTypes: ['notification.sent', 'notification.failed', 'delivery.failed'],
  status: 'enabled',
  createdAt: '2026-12-02T03:00:00.000Z',
  updatedAt: '2026-12-02T03:00:00.000Z',
};
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/DsjA4xPu6I=';
const EVENT_ID = 'evt_ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f.notification.sent';

const common = {
  401: errorBody(
    401,
    'MISSING_API_KEY',
    'Authentication required: send `Authorization: Bearer <key>` (create a key with `npm run keys -- new <name> --scopes send,read`).',
  ),
  403: errorBody(403, 'INSUFFICIENT_SCOPE', 'This API key lacks the "send" scope needed here (it has: read).'),
  404: errorBody(404, 'WEBHOOK_ENDPOINT_NOT_FOUND', `No webhook endpoint ${ENDPOINT_ID}`, [
    { path: 'id', message: 'no such webhook endpoint for this API key' },
  ]),
  429: errorBody(
    429,
    'RATE_LIMITED',
    'Rate limit exceeded: at most 600 requests per 60 s for this client; retry after 12 seconds.',
  ),
  503: errorBody(
    503,
    'DATABASE_UNAVAILABLE',
    'The webhook endpoint database is unavailable: connect ECONNREFUSED 127.0.0.1:5433; retry later.',
  ),
};
const invalid = errorBody(400, 'VALIDATION_FAILED', 'Request validation failed', [
  { path: 'id', message: 'Too big: expected string to have <=64 characters' },
]);

/** Examples per operation, keyed `METHOD url` as fastify registers the route. */
export const WEBHOOK_ENDPOINT_OPERATIONS: Record<
  string,
  { body?: () => Record<string, { summary: string; value: unknown }>; responses: Record<string, unknown> }
> = {
  'POST /v1/webhook-endpoints': {
    body: () => ({
      endpoint: {
        summary: 'Outcomes of notifications and failed deliveries',
        value: {
          url: 'https://example.com/hooks/notify-events',
          description: 'order service',
          eventTypes: ['notification.sent', 'notification.failed', 'delivery.failed'],
        },
      },
    }),
    responses: {
      201: { ...endpoint, secret },
      400: errorBody(
        400,
        'URL_NOT_ALLOWED',
        'url is not allowed: refused: 169.254.169.254 is a link-local address; internal targets need an explicit WEBHOOK_ALLOWED_NETWORKS entry',
        [{ path: 'url', message: 'refused: 169.254.169.254 is a link-local address' }],
      ),
      ...common,
    },
  },
  'GET /v1/webhook-endpoints': {
    responses: { 200: { endpoints: [endpoint] }, 400: invalid, ...common },
  },
  'GET /v1/webhook-endpoints/:id': { responses: { 200: endpoint, 400: invalid, ...common } },
  'DELETE /v1/webhook-endpoints/:id': { responses: { 400: invalid, ...common } },
  'POST /v1/webhook-endpoints/:id/rotate-secret': {
    responses: {
      200: { ...endpoint, previousSecretExpiresAt: '2026-12-03T03:00:00.000Z', secret },
      400: invalid,
      ...common,
    },
  },
  'POST /v1/webhook-endpoints/:id/enable': { responses: { 200: endpoint, 400: invalid, ...common } },
  'GET /v1/webhook-endpoints/:id/deliveries': {
    responses: {
      200: {
        deliveries: [
          {
            eventId: EVENT_ID,
            eventType: 'notification.sent',
            notificationId: 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f',
            status: 'delivered',
            workflowId: `event-${EVENT_ID}-${ENDPOINT_ID}`,
            createdAt: '2026-12-02T03:01:00.000Z',
            updatedAt: '2026-12-02T03:01:30.200Z',
            deliveredAt: '2026-12-02T03:01:30.200Z',
            attempts: [
              {
                attempt: 1,
                at: '2026-12-02T03:01:00.100Z',
                error: 'webhook endpoint https://example.com failed: connect ECONNREFUSED',
                durationMs: 3,
              },
              {
                attempt: 2,
                at: '2026-12-02T03:01:05.120Z',
                statusCode: 503,
                error: 'webhook endpoint https://example.com answered HTTP 503',
                durationMs: 12,
              },
              { attempt: 3, at: '2026-12-02T03:01:30.140Z', statusCode: 200, durationMs: 9 },
            ],
          },
        ],
      },
      400: invalid,
      ...common,
    },
  },
};
