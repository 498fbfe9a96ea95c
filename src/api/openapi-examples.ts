import { errorBody } from './errors.js';
import { WEBHOOK_ENDPOINT_OPERATIONS } from './webhook-endpoint-examples.js';

/**
 * Realistic examples for the OpenAPI document, so Swagger UI's "Try it out" and generated clients start from a
 * working request: named examples for every request body (one per channel for `POST /v1/notifications`) and one
 * example per response status. Added to the JSON schemas that fastify-type-provider-zod derives from the zod schemas
 * (see {@link withOpenApiExamples}); @fastify/swagger turns them into media-type `examples` / `example`.
 */

const ID = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f';
const links = {
  self: `/v1/notifications/${ID}`,
  cancel: `/v1/notifications/${ID}/cancel`,
  retry: `/v1/notifications/${ID}/retry`,
  temporalUi: `http://127.0.0.1:8233/namespaces/notify/workflows/${ID}`,
};

/** A named example of a request body (OpenAPI Example Object). */
interface NamedExample {
  summary: string;
  value: unknown;
}

/** Send time of the scheduled example: tomorrow 09:00 UTC, so it is always within the accepted 366 days. */
function tomorrowAtNine(): string {
  const d = new Date(Date.now() + 24 * 3600 * 1000);
  d.setUTCHours(9, 0, 0, 0);
  return d.toISOString().replace('.000Z', 'Z');
}

const emailNotification = {
  deliveries: [
    {
      channel: 'email',
      to: 'ada@example.com',
      content: {
        subject: 'Welcome to Acme',
        text: 'Hi Ada, thanks for signing up.',
        html: '<p>Hi Ada, thanks for signing up.</p>',
        from: 'Acme <hello@acme.example>',
      },
    },
  ],
  metadata: { userId: 'u_1842' },
  tags: ['onboarding'],
};
const smsNotification = {
  deliveries: [{ channel: 'sms', to: '+14155550123', content: { body: 'Your Acme code is 482913' } }],
};
const slackNotification = {
  deliveries: [{ channel: 'slack', to: { channel: '#alerts' }, content: { text: 'Deploy of api v2.14 finished' } }],
  tags: ['deploys'],
};
const webhookNotification = {
  deliveries: [
    {
      channel: 'webhook',
      to: { url: 'https://hooks.acme.example/notify', recipientId: 'cust_42' },
      content: { event: 'order.paid', data: { order: 42, amount: '19.90' } },
    },
  ],
};

/** A templated notification: `templates/welcome/` renders the content of each delivery for its channel. */
const templateData = { user: { name: 'Ada' }, product: 'Acme', signInUrl: 'https://acme.example/login' };
const templatedNotification = {
  template: 'welcome',
  data: templateData,
  deliveries: [
    { channel: 'email', to: 'ada@example.com' },
    { channel: 'sms', to: '+14155550123' },
  ],
};

function submitExamples(): Record<string, NamedExample> {
  return {
    template: {
      summary: 'From a template (email + SMS rendered from templates/welcome)',
      value: templatedNotification,
    },
    email: { summary: 'Email', value: emailNotification },
    sms: { summary: 'SMS', value: smsNotification },
    slack: { summary: 'Slack message', value: slackNotification },
    webhook: { summary: 'Signed webhook', value: webhookNotification },
    digest: {
      summary: 'Digest: comments for user-42 within 10 minutes go out as one email',
      value: {
        recipient: 'user-42',
        digest: { key: 'comments', window: '10m' },
        deliveries: [
          { channel: 'email', content: { subject: 'New comment on "Q3 plan"', text: 'Grace: looks good to me.' } },
        ],
      },
    },
    fallback: {
      summary: 'SMS first, email if SMS fails, scheduled',
      value: {
        routing: 'fallback',
        sendAt: tomorrowAtNine(),
        metadata: { invoice: 'INV-42' },
        deliveries: [
          smsNotification.deliveries[0],
          {
            channel: 'email',
            to: 'ada@example.com',
            content: { subject: 'Your invoice', text: 'Invoice INV-42 is ready.' },
          },
        ],
      },
    },
  };
}

const validation = errorBody(
  400,
  'VALIDATION_FAILED',
  'Invalid request: deliveries.0.to: must be an email address like ada@example.com',
  [{ path: 'deliveries.0.to', message: 'must be an email address like ada@example.com' }],
);

/** One error body per status, as the gateway answers it. */
const ERRORS: Record<string, unknown> = {
  400: validation,
  401: errorBody(401, 'MISSING_API_KEY', 'Authentication required: send `Authorization: Bearer <key>`.'),
  403: errorBody(403, 'INSUFFICIENT_SCOPE', 'This API key lacks the "send" scope needed here (it has: read).'),
  404: errorBody(404, 'NOT_FOUND', `No notification ${ID}`),
  409: errorBody(
    409,
    'NOT_CANCELLABLE',
    'Only scheduled (or failed, awaiting retry) notifications can be cancelled; this one is sending.',
  ),
  413: errorBody(
    413,
    'FST_ERR_CTP_BODY_TOO_LARGE',
    'Request body is larger than the configured limit (HTTP_BODY_LIMIT_BYTES)',
  ),
  415: errorBody(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Content-Type "text/plain": send application/json'),
  422: errorBody(
    422,
    'IDEMPOTENCY_KEY_REUSED',
    'This Idempotency-Key was already used with a different request body; use a new key for a new notification.',
  ),
  429: errorBody(
    429,
    'RATE_LIMITED',
    'Rate limit exceeded: at most 600 requests per 60 s for this client; retry after 12 seconds.',
  ),
  500: errorBody(500, 'INTERNAL', 'Internal error; it has been logged'),
  503: errorBody(
    503,
    'KAFKA_UNAVAILABLE',
    'Kafka did not confirm the write in time, so the notification may or may not have been stored; retry with the same Idempotency-Key, which is always safe (without a key, a retry may create a second notification).',
  ),
};
const TEMPORAL_503 = errorBody(
  503,
  'TEMPORAL_UNAVAILABLE',
  `Notification ${ID}: the status could not be read from Temporal, which did not answer; retry in a moment.`,
);

const statusExample = {
  id: ID,
  status: 'sent',
  routing: 'fallback',
  metadata: { invoice: 'INV-42' },
  tags: ['billing'],
  deliveries: [
    {
      channel: 'sms',
      status: 'failed',
      attempts: 1,
      lastError: {
        message: 'sms provider answered HTTP 400: The number is unverified (code 21608)',
        type: 'PermanentDeliveryError',
        permanent: true,
        at: '2026-12-01T09:00:01.204Z',
      },
    },
    {
      channel: 'email',
      status: 'sent',
      attempts: 1,
      providerMessageId: '4F2A9C01B3D7',
      provider: 'smtp-b.example.com:587',
      sentAt: '2026-12-01T09:00:02.518Z',
    },
  ],
  acceptedAt: '2026-12-01T09:00:00.112Z',
  updatedAt: '2026-12-01T09:00:02.530Z',
  completedAt: '2026-12-01T09:00:02.530Z',
  links,
};

/** Temporal codec-server payload: `json/plain` metadata and `{"hello":"world"}`, base64. */
const codecPayloads = { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJoZWxsbyI6IndvcmxkIn0=' }] };

interface OperationExamples {
  body?: () => Record<string, NamedExample>;
  responses: Record<string, unknown>;
}

const notificationErrors = (statuses: number[], overrides: Record<number, unknown> = {}) =>
  Object.fromEntries(statuses.map((s) => [String(s), overrides[s] ?? ERRORS[s]]));

const TEMPLATE_VERSION = '46ae07c23a00e4da';
const templateVariableMissing = errorBody(
  400,
  'TEMPLATE_VARIABLE_MISSING',
  'Invalid request: template "welcome" requires data.user.name',
  [{ path: 'data.user.name', message: 'template "welcome" requires data.user.name' }],
);
const templateExamples: Record<string, OperationExamples> = {
  'GET /v1/templates': {
    responses: {
      200: {
        templates: [
          {
            name: 'welcome',
            channels: ['email', 'sms', 'slack', 'webhook'],
            locales: ['en', 'de'],
            requiredVariables: ['product', 'signInUrl', 'user.name'],
            version: TEMPLATE_VERSION,
          },
        ],
      },
      ...Object.fromEntries([401, 403, 429].map((s) => [String(s), ERRORS[s]])),
    },
  },
  'POST /v1/templates/:name/preview': {
    body: () => ({
      german: {
        summary: 'SMS and email as a recipient with locale de-DE gets them',
        value: { data: templateData, locale: 'de-DE', channels: ['sms', 'email'] },
      },
    }),
    responses: {
      200: {
        name: 'welcome',
        version: TEMPLATE_VERSION,
        rendered: {
          sms: {
            locale: 'de',
            content: { body: 'Hallo Ada, dein Acme-Konto ist bereit: https://acme.example/login' },
          },
          email: {
            locale: 'de',
            content: {
              subject: 'Willkommen bei Acme, Ada',
              text: 'Hallo Ada,\nDein Acme-Konto ist bereit. …',
              html: '<!doctype html><html …>…</html>',
            },
          },
        },
      },
      400: templateVariableMissing,
      401: ERRORS[401],
      403: ERRORS[403],
      404: errorBody(404, 'UNKNOWN_TEMPLATE', 'unknown template "welcom"; GET /v1/templates lists the templates'),
      422: errorBody(
        422,
        'TEMPLATE_RENDER_FAILED',
        'template "welcome" (sms): rendered content is not valid sms content: body: body may be at most 1600 characters',
        [{ path: 'channels.sms', message: 'body: body may be at most 1600 characters' }],
      ),
      429: ERRORS[429],
    },
  },
};

/** Examples per operation, keyed `METHOD url` as fastify registers the route. */
const OPERATIONS: Record<string, OperationExamples> = {
  ...templateExamples,
  'POST /v1/notifications': {
    body: submitExamples,
    responses: {
      202: { id: ID, status: 'accepted', links },
      ...notificationErrors([400, 401, 403, 413, 415, 422, 429, 500, 503]),
    },
  },
  'POST /v1/notifications/batch': {
    body: () => ({
      mixed: {
        summary: 'Two notifications, each with its own idempotency key',
        value: {
          notifications: [
            { ...emailNotification, idempotencyKey: 'welcome-ada-1' },
            { ...smsNotification, idempotencyKey: 'otp-482913' },
          ],
        },
      },
    }),
    responses: {
      207: {
        accepted: 1,
        rejected: 1,
        results: [
          { index: 0, status: 202, id: ID, replay: false },
          {
            index: 1,
            status: 400,
            error: errorBody(400, 'VALIDATION_FAILED', 'Invalid item 1', [
              {
                path: 'notifications.1.deliveries.0.to',
                message: 'must be a phone number in E.164 form, e.g. +14155550123 (no spaces or dashes)',
              },
            ]),
          },
        ],
      },
      ...notificationErrors([400, 401, 403, 413, 415, 429]),
    },
  },
  'GET /v1/notifications/:id': {
    responses: { 200: statusExample, ...notificationErrors([400, 401, 403, 404, 429, 503], { 503: TEMPORAL_503 }) },
  },
  'POST /v1/notifications/:id/cancel': {
    responses: {
      202: { id: ID, requested: 'cancel' },
      ...notificationErrors([400, 401, 403, 404, 409, 429, 503], {
        503: errorBody(
          503,
          'TEMPORAL_UNAVAILABLE',
          `Notification ${ID}: the cancel request could not be delivered to Temporal, which did not answer; send the cancel request again in a moment (repeating it is safe).`,
        ),
      }),
    },
  },
  'POST /v1/notifications/:id/retry': {
    responses: {
      202: { id: ID, requested: 'retry' },
      ...notificationErrors([400, 401, 403, 404, 409, 429, 503], {
        409: errorBody(409, 'NOT_RETRYABLE', 'Only failed notifications can be retried; this one is sent.'),
        503: errorBody(
          503,
          'TEMPORAL_UNAVAILABLE',
          `Notification ${ID}: the retry request could not be delivered to Temporal, which did not answer; send the retry request again in a moment (repeating it is safe).`,
        ),
      }),
    },
  },
  'GET /healthz': { responses: { 200: { status: 'ok' } } },
  'GET /readyz': { responses: { 200: { status: 'ready', kafka: true }, 503: { status: 'not-ready', kafka: false } } },
  'POST /codec/encode': {
    body: () => ({ plain: { summary: 'A json/plain payload', value: codecPayloads } }),
    responses: { 200: codecPayloads },
  },
  'POST /codec/decode': {
    body: () => ({ plain: { summary: 'An unencrypted payload passes through unchanged', value: codecPayloads } }),
    responses: { 200: codecPayloads },
  },
  ...WEBHOOK_ENDPOINT_OPERATIONS,
};

/** Routes anyone may call: no bearer token in the document ("Authorize" is not needed for them). */
const PUBLIC_ROUTES = new Set(['GET /healthz', 'GET /readyz']);

/** A route's transformed schema, as @fastify/swagger's `transform` hands it on. */
interface TransformedSchema {
  body?: Record<string, unknown>;
  response?: Record<string, Record<string, unknown>>;
  security?: unknown[];
  [key: string]: unknown;
}

/**
 * Adds this module's examples to one route's transformed JSON schema: `x-examples` (named) on the body, `examples`
 * (one) on each response status, and `security: []` on public routes. Routes without examples pass unchanged.
 */
export function withOpenApiExamples<T extends { schema: unknown; url: string }>(
  transformed: T,
  method: string | string[],
): T {
  const methods = Array.isArray(method) ? method : [method];
  const schema = transformed.schema as TransformedSchema | undefined;
  if (schema === undefined || schema === null) return transformed;
  for (const m of methods) {
    const key = `${m.toUpperCase()} ${transformed.url}`;
    const examples = OPERATIONS[key];
    if (PUBLIC_ROUTES.has(key)) schema.security = [];
    if (examples === undefined) continue;
    if (examples.body !== undefined && schema.body !== undefined)
      schema.body = { ...schema.body, 'x-examples': examples.body() };
    for (const [status, example] of Object.entries(examples.responses)) {
      const response = schema.response?.[status];
      if (response !== undefined) schema.response![status] = { ...response, examples: [example] };
    }
  }
  return transformed;
}
