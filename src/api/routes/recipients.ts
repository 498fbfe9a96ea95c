import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientIdOf } from '../plugins/auth.js';
import { addressKeys } from '../../recipients/addresses.js';
import type { Recipient, RecipientStore } from '../../recipients/store.js';
import { VersionConflictError } from '../../recipients/store.js';
import { errorSchema } from '../../schemas/notification.js';
import {
  preferencesSchema,
  recipientBodySchema,
  recipientIdSchema,
  recipientPatchSchema,
  recipientSchema,
  suppressionBodySchema,
  suppressionSchema,
} from '../../schemas/recipients.js';
import { ApiError } from '../errors.js';

const params = z.object({ recipientId: recipientIdSchema.describe('Your id for the recipient (e.g. your user id).') });
const ifMatchHeaders = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d+"?$/, 'If-Match must be the ETag (version) of the recipient, e.g. "3"')
    .optional()
    .describe('Apply only if the recipient is still at this version (ETag); 412 otherwise.'),
});
const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  412: errorSchema,
  429: errorSchema,
  503: errorSchema,
};

const adaExample = {
  addresses: { email: 'ada@example.com', sms: '+14155550123' },
  timezone: 'Europe/London',
  locale: 'en-GB',
  properties: { plan: 'pro' },
  quietHours: { start: '22:00', end: '07:00' },
};

function version(ifMatch: string | undefined): number | undefined {
  return ifMatch === undefined ? undefined : Number(ifMatch.replace(/^W\//, '').replaceAll('"', ''));
}

function etag(r: Recipient): string {
  return `"${r.version}"`;
}

/** Runs a database call; an unreachable database answers 503 with Retry-After (nothing was changed). */
async function db<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof VersionConflictError) {
      throw new ApiError(
        412,
        'VERSION_CONFLICT',
        `If-Match does not match: ${err.message}; GET it again and retry with the new ETag.`,
        [{ path: 'If-Match', message: `current version is ${err.current}` }],
      );
    }
    throw new ApiError(
      503,
      'DATABASE_UNAVAILABLE',
      `The recipient database is unavailable: ${err instanceof Error ? err.message : String(err)}; retry later.`,
      undefined,
      { 'retry-after': '2' },
    );
  }
}

/**
 * Recipient profiles, preferences and suppressions, scoped by API key like notifications (another client's recipient
 * answers 404). Writes need the `send` scope, reads `read`.
 */
export function registerRecipientRoutes(app: FastifyInstance, store: RecipientStore): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const notFound = (id: string) =>
    new ApiError(404, 'RECIPIENT_NOT_FOUND', `No recipient ${id}`, [
      { path: 'recipientId', message: 'no such recipient for this API key' },
    ]);

  r.put(
    '/v1/recipients/:recipientId',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['recipients'],
        summary: 'Create or replace a recipient profile',
        description:
          "Addresses are validated by each channel's schema. Preferences are kept (see /preferences). Answers 201 when created, 200 when replaced; the ETag is the version.",
        params,
        headers: ifMatchHeaders,
        body: recipientBodySchema.meta({ examples: [adaExample] }),
        response: { 200: recipientSchema, 201: recipientSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { recipient, created } = await db(() =>
        store.put(clientIdOf(request), request.params.recipientId, request.body, version(request.headers['if-match'])),
      );
      return reply
        .code(created ? 201 : 200)
        .header('etag', etag(recipient))
        .send(recipient);
    },
  );

  r.get(
    '/v1/recipients/:recipientId',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['recipients'],
        summary: 'Get a recipient',
        params,
        response: { 200: recipientSchema, ...errors },
      },
    },
    async (request, reply) => {
      const recipient = await db(() => store.get(clientIdOf(request), request.params.recipientId));
      if (recipient === undefined) throw notFound(request.params.recipientId);
      return reply.header('etag', etag(recipient)).send(recipient);
    },
  );

  r.patch(
    '/v1/recipients/:recipientId',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['recipients'],
        summary: 'Change part of a recipient profile',
        description:
          'JSON merge patch: given fields replace, `null` removes; addresses and properties merge per key. Concurrent patches are serialized (none is lost); with If-Match only that version is changed.',
        params,
        headers: ifMatchHeaders,
        body: recipientPatchSchema.meta({
          examples: [{ addresses: { sms: null, slack: { channel: '#ada' } }, properties: { plan: 'team' } }],
        }),
        response: { 200: recipientSchema, ...errors },
      },
    },
    async (request, reply) => {
      const recipient = await db(() =>
        store.patch(
          clientIdOf(request),
          request.params.recipientId,
          request.body,
          version(request.headers['if-match']),
        ),
      );
      if (recipient === undefined) throw notFound(request.params.recipientId);
      return reply.header('etag', etag(recipient)).send(recipient);
    },
  );

  r.delete(
    '/v1/recipients/:recipientId',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['recipients'],
        summary: 'Delete a recipient and erase its personal data',
        description:
          'Erases the profile (addresses, time zone, locale, properties, quiet hours), the preferences and the suppressions recorded from its deliveries. ' +
          'What remains: the recipient id in Temporal workflow histories (an id, not personal data) and the encrypted payloads of past notifications until namespace retention removes them.',
        params,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const existed = await db(() => store.delete(clientIdOf(request), request.params.recipientId));
      if (!existed) throw notFound(request.params.recipientId);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/v1/recipients/:recipientId/preferences',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['recipients'],
        summary: "Get a recipient's preferences",
        params,
        response: { 200: preferencesSchema, ...errors },
      },
    },
    async (request, reply) => {
      const recipient = await db(() => store.get(clientIdOf(request), request.params.recipientId));
      if (recipient === undefined) throw notFound(request.params.recipientId);
      return reply.header('etag', etag(recipient)).send(recipient.preferences);
    },
  );

  r.put(
    '/v1/recipients/:recipientId/preferences',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['recipients'],
        summary: "Replace a recipient's preferences",
        description:
          'Most specific wins: category + channel, category opt-out, channel opt-out, category opt-in, operator default (PREFERENCE_OPT_IN_CATEGORIES are off until opted in).',
        params,
        headers: ifMatchHeaders,
        body: preferencesSchema.meta({
          examples: [
            {
              channels: { sms: true },
              categories: { marketing: { enabled: false }, billing: { channels: { email: false } } },
            },
          ],
        }),
        response: { 200: preferencesSchema, ...errors },
      },
    },
    async (request, reply) => {
      const recipient = await db(() =>
        store.putPreferences(
          clientIdOf(request),
          request.params.recipientId,
          request.body,
          version(request.headers['if-match']),
        ),
      );
      if (recipient === undefined) throw notFound(request.params.recipientId);
      return reply.header('etag', etag(recipient)).send(recipient.preferences);
    },
  );

  const suppressionQuery = z.object({
    channel: suppressionBodySchema.shape.channel.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  });
  r.get(
    '/v1/suppressions',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['suppressions'],
        summary: 'List suppressed addresses',
        querystring: suppressionQuery,
        response: { 200: z.object({ suppressions: z.array(suppressionSchema) }), ...errors },
      },
    },
    async (request) => ({
      suppressions: await db(() =>
        store.listSuppressions(clientIdOf(request), { channel: request.query.channel, limit: request.query.limit }),
      ),
    }),
  );

  r.post(
    '/v1/suppressions',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['suppressions'],
        summary: 'Suppress an address',
        description:
          'Nothing is sent to a suppressed address (its deliveries are `skipped` with reason `suppressed`). 201 when new, 200 when it was already suppressed.',
        body: suppressionBodySchema.meta({
          examples: [{ channel: 'email', address: 'bounced@example.com', reason: 'user request' }],
        }),
        response: { 200: suppressionSchema, 201: suppressionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { channel, address, reason } = request.body;
      const [key] = addressKeys(channel, address);
      const { suppression, created } = await db(() =>
        store.addSuppression(clientIdOf(request), {
          channel,
          address: key ?? address,
          reason: reason ?? 'added by API',
          source: 'api',
        }),
      );
      return reply.code(created ? 201 : 200).send(suppression);
    },
  );

  r.delete(
    '/v1/suppressions',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['suppressions'],
        summary: 'Remove a suppression',
        querystring: suppressionBodySchema.pick({ channel: true, address: true }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const { channel, address } = request.query;
      const [key] = addressKeys(channel, address);
      const existed = await db(() => store.deleteSuppression(clientIdOf(request), channel, key ?? address));
      if (!existed) throw new ApiError(404, 'SUPPRESSION_NOT_FOUND', `${address} is not suppressed on ${channel}`);
      return reply.code(204).send(null);
    },
  );
}
