import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorSchema, templateDataSchema, templateNameSchema } from '../../schemas/notification.js';
import { TemplateNotFoundError, TemplateRenderError } from '../../templates/index.js';
import type { TemplateStore } from '../../templates/index.js';
import { ApiError } from '../errors.js';

/** A submit-time template problem: HTTP code, error code and the issues naming the fields at fault. */
export interface TemplateRejection {
  code: 'UNKNOWN_TEMPLATE' | 'TEMPLATE_CHANNEL_MISSING' | 'TEMPLATE_VARIABLE_MISSING';
  message: string;
  issues: Array<{ path: string; message: string }>;
}

/**
 * Checks a templated notification at submit time: the template exists, has a file for every delivery's channel, and
 * `data` has every variable those files read (in every locale: the recipient's locale is known only at delivery).
 * Returns undefined when the notification names no template or passes. `prefix` is the field-path prefix (batch items).
 */
export function checkTemplate(
  store: Pick<TemplateStore, 'describe' | 'missingVariables'> | undefined,
  request: {
    template?: string;
    data?: Record<string, unknown>;
    digest?: unknown;
    deliveries: ReadonlyArray<{ channel: string }>;
  },
  prefix = '',
): TemplateRejection | undefined {
  const name = request.template;
  if (name === undefined) return undefined;
  const summary = store?.describe(name);
  if (store === undefined || summary === undefined) {
    const message = `unknown template "${name}"; GET /v1/templates lists the templates`;
    return { code: 'UNKNOWN_TEMPLATE', message, issues: [{ path: `${prefix}template`, message }] };
  }
  const channelIssues = request.deliveries.flatMap((d, i) =>
    (summary.channels as readonly string[]).includes(d.channel)
      ? []
      : [
          {
            path: `${prefix}deliveries.${i}.channel`,
            message: `template "${name}" has no file for channel ${d.channel} (it has: ${summary.channels.join(', ')})`,
          },
        ],
  );
  if (channelIssues.length > 0)
    return { code: 'TEMPLATE_CHANNEL_MISSING', message: channelIssues[0]?.message ?? '', issues: channelIssues };
  const channels = [...new Set(request.deliveries.map((d) => d.channel))];
  // A digested notification's template renders the whole digest: it reads `items` (each notification's data),
  // `count` and `digest`, so the check is made against a digest of this one notification.
  const data =
    request.digest !== undefined
      ? { items: [request.data ?? {}], count: 1, digest: 'dgs_check' }
      : (request.data ?? {});
  const missing = store.missingVariables(name, channels, data);
  if (missing.length === 0) return undefined;
  const issues = missing.map((v) => ({
    path: `${prefix}data.${v}`,
    message: `template "${name}" requires data.${v}`,
  }));
  return {
    code: 'TEMPLATE_VARIABLE_MISSING',
    message: `template "${name}" requires ${missing.map((v) => `data.${v}`).join(', ')}`,
    issues,
  };
}

/** Throws the 400 for a rejected templated notification. */
export function assertTemplate(
  store: Pick<TemplateStore, 'describe' | 'missingVariables'> | undefined,
  request: Parameters<typeof checkTemplate>[1],
): void {
  const rejection = checkTemplate(store, request);
  if (rejection !== undefined)
    throw new ApiError(400, rejection.code, `Invalid request: ${rejection.message}`, rejection.issues);
}

const channelEnum = z.enum(['email', 'sms', 'slack', 'webhook']);

/** One template as listed. */
export const templateSummarySchema = z.object({
  name: z.string(),
  channels: z.array(channelEnum),
  locales: z.array(z.string()).describe('The default locale first, then the locale variants.'),
  requiredVariables: z
    .array(z.string())
    .describe('Paths `data` must provide (strict variables), e.g. `user.name`, over every channel and locale.'),
  version: z.string().describe('Content hash of the template files; recorded per delivery in the status.'),
});

const previewBodySchema = z.strictObject({
  data: templateDataSchema.describe('Template variables, as in `POST /v1/notifications`.'),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'a locale like de or de-AT')
    .optional()
    .describe("Render this locale's variant (as a recipient with this locale would get it); default locale otherwise."),
  channels: z
    .array(channelEnum)
    .min(1)
    .optional()
    .describe('Channels to render (default: every channel the template has).'),
});

const previewSchema = z.object({
  name: z.string(),
  version: z.string(),
  rendered: z
    .record(z.string(), z.object({ locale: z.string(), content: z.record(z.string(), z.unknown()) }))
    .describe("Per channel: the locale used and the content in the channel's own shape (email: subject, text, html)."),
});

/**
 * `GET /v1/templates` (scope `read`) and `POST /v1/templates/{name}/preview` (scope `send`: it renders caller data,
 * sends nothing). Both read the store compiled at gateway start.
 */
export function registerTemplateRoutes(app: FastifyInstance, store: TemplateStore): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/v1/templates',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['templates'],
        summary: 'List the templates',
        description: 'The templates this deployment ships (TEMPLATES_DIR), with their channels, locales and variables.',
        response: {
          200: z.object({ templates: z.array(templateSummarySchema) }),
          401: errorSchema,
          403: errorSchema,
          429: errorSchema,
        },
      },
    },
    () => ({ templates: store.list() }),
  );

  r.post(
    '/v1/templates/:name/preview',
    {
      config: { scope: 'send' },
      schema: {
        tags: ['templates'],
        summary: 'Render a template without sending',
        description:
          'Renders each channel of the template with `data`, exactly as the delivery activity would (same version, strict variables, locale fallback).',
        params: z.object({ name: templateNameSchema.describe('Template name') }),
        body: previewBodySchema,
        response: {
          200: previewSchema,
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          404: errorSchema,
          422: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (request) => {
      const { name } = request.params;
      const summary = store.describe(name);
      if (summary === undefined)
        throw new ApiError(
          404,
          'UNKNOWN_TEMPLATE',
          `unknown template "${name}"; GET /v1/templates lists the templates`,
        );
      const channels = request.body.channels ?? summary.channels;
      const rejection = checkTemplate(store, {
        template: name,
        data: request.body.data,
        deliveries: channels.map((channel) => ({ channel })),
      });
      if (rejection !== undefined) {
        // Paths as in this body: `channels.N` rather than a notification's `deliveries.N.channel`.
        const issues = rejection.issues.map((i) => ({
          ...i,
          path: i.path.replace(/^deliveries\.(\d+)\.channel$/, 'channels.$1'),
        }));
        throw new ApiError(400, rejection.code, `Invalid request: ${rejection.message}`, issues);
      }
      const rendered: Record<string, { locale: string; content: Record<string, unknown> }> = {};
      for (const channel of channels) {
        try {
          const out = await store.render(name, channel, request.body.data, request.body.locale);
          rendered[channel] = { locale: out.locale, content: out.content };
        } catch (err) {
          if (err instanceof TemplateRenderError || err instanceof TemplateNotFoundError)
            throw new ApiError(422, 'TEMPLATE_RENDER_FAILED', err.message, [
              { path: `channels.${channel}`, message: err.message },
            ]);
          throw err;
        }
      }
      return { name, version: summary.version, rendered };
    },
  );
}
