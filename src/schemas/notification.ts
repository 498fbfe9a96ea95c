import { z } from 'zod';
import { deliverySchema } from '../channels/registry.js';
import { TEMPLATE_CONTENT_KEY } from '../shared/notification.js';
import { DIGEST_KEY_PATTERN, DIGEST_MAX_WINDOW_MS, DIGEST_MIN_WINDOW_MS, parseDigestWindow } from '../shared/digest.js';

/** Longest accepted `Idempotency-Key` header. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Most deliveries (channels) one notification may carry. */
export const MAX_DELIVERIES = 10;
/** How far in the future `sendAt` may be. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600 * 1000;

/** A caller-chosen recipient id: 1-128 characters of letters, digits and `_ . : @ -`. */
export const recipientIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_.:@-]{1,128}$/,
    'a recipient id is 1-128 characters of letters, digits, "_", ".", ":", "@" or "-"',
  );

/** A notification category: 1-64 lower-case letters, digits, `_ . -`. */
export const categorySchema = z
  .string()
  .regex(/^[a-z0-9_.-]{1,64}$/, 'a category is 1-64 lower-case letters, digits, "_", "." or "-"');

/** Largest serialised template `data` accepted (it travels in the Kafka record and once per delivery in Temporal). */
export const MAX_TEMPLATE_DATA_BYTES = 64 * 1024;

/** A template name: the folder `templates/<name>/`. */
export const templateNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a template name is 1-64 lower-case letters, digits, "-" or "_"');

/** Template variables: a JSON object. */
export const templateDataSchema = z
  .record(z.string(), z.unknown())
  .refine(
    (d) => Buffer.byteLength(JSON.stringify(d)) <= MAX_TEMPLATE_DATA_BYTES,
    `data may be at most ${MAX_TEMPLATE_DATA_BYTES} bytes of JSON`,
  );

/** `digest`: key + window (a duration from 10s to 24h). */
export const digestSchema = z
  .strictObject({
    key: z
      .string()
      .regex(DIGEST_KEY_PATTERN, 'a digest key is 1-64 characters of letters, digits, "_", "." or "-"')
      .describe('Groups the notifications of one recipient that are combined, e.g. `comments`.'),
    window: z
      .string()
      .refine(
        (w) => parseDigestWindow(w) !== undefined,
        'window is a duration like 30s, 10m or 2h (a whole number of seconds, minutes or hours)',
      )
      .refine((w) => {
        const ms = parseDigestWindow(w);
        return ms === undefined || (ms >= DIGEST_MIN_WINDOW_MS && ms <= DIGEST_MAX_WINDOW_MS);
      }, 'window must be between 10s and 24h')
      .describe('How long the window opened by the first notification of the key stays open: 10s to 24h.'),
  })
  .describe(
    "Digest: notifications for the same recipient with the same key within the window are combined into one send per channel. Needs `recipient`; each digested notification's status becomes `digested` with `digestedInto` naming the send.",
  );

const tagSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a tag is 1-64 characters of letters, digits, "_", ".", ":" or "-"');

/**
 * A notification request: one or more deliveries (channel + recipient + content) and how to route them.
 * Unknown fields are rejected so that typos (e.g. `sendat`) do not silently change behaviour.
 */
const notificationRequestObject = z.strictObject({
  deliveries: z
    .array(deliverySchema)
    .min(1, 'at least one delivery is required')
    .max(MAX_DELIVERIES, `at most ${MAX_DELIVERIES} deliveries per notification`)
    .describe('Where and what to send. One entry for a single channel; several with `routing`.'),
  routing: z
    .enum(['all', 'fallback'])
    .default('all')
    .describe('`all`: deliver on every entry. `fallback`: try entries in order until one succeeds.'),
  sendAt: z.iso
    .datetime({
      offset: true,
      message: 'sendAt must be an ISO-8601 date-time with a time zone, e.g. 2030-01-01T09:00:00Z',
    })
    .refine((v) => Date.parse(v) - Date.now() <= MAX_SCHEDULE_AHEAD_MS, 'sendAt may be at most 366 days ahead')
    .optional()
    .describe('Scheduled send time. Past or absent means send now.'),
  metadata: z
    .record(z.string().min(1).max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata entries')
    .optional()
    .describe('Free-form string pairs echoed back in the status. Do not put secrets here.'),
  tags: z
    .array(tagSchema)
    .max(10, 'at most 10 tags')
    .optional()
    .describe('Labels searchable in the Temporal Web UI (no PII).'),
  recipient: recipientIdSchema
    .optional()
    .describe(
      'A recipient id (PUT /v1/recipients/{id}): deliveries may then name only the channel; the address, preferences and quiet hours come from the profile when each delivery runs.',
    ),
  category: categorySchema
    .optional()
    .describe(
      "Category matched against the recipient's preferences and the operator defaults (e.g. `billing`, `marketing`, `urgent`).",
    ),
  template: templateNameSchema
    .optional()
    .describe(
      "A template (GET /v1/templates) instead of per-delivery `content`: each delivery renders the file of its channel, in the recipient's locale when the profile has one. Deliveries then carry no `content`.",
    ),
  data: templateDataSchema
    .optional()
    .describe('Variables of the `template`: every variable it reads must be present (strict variables).'),
  digest: digestSchema.optional(),
});

/** Either a `template` (and no delivery `content`) or `content` on every delivery; `data` only with a template. */
function requireContent(
  request: { template?: string; data?: unknown; deliveries: Array<{ content?: unknown }> },
  ctx: z.RefinementCtx,
): void {
  if (request.template === undefined && request.data !== undefined)
    ctx.addIssue({ code: 'custom', path: ['data'], message: 'data is only used with a template' });
  request.deliveries.forEach((d, i) => {
    if (request.template !== undefined && d.content !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['deliveries', i, 'content'],
        message: 'content and template are exclusive: the template renders the content of every delivery',
      });
    if (request.template === undefined && d.content === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['deliveries', i, 'content'],
        message: 'content is required unless the notification names a template',
      });
    if (typeof d.content === 'object' && d.content !== null && Object.hasOwn(d.content, TEMPLATE_CONTENT_KEY))
      ctx.addIssue({
        code: 'custom',
        path: ['deliveries', i, 'content', TEMPLATE_CONTENT_KEY],
        message: `"${TEMPLATE_CONTENT_KEY}" is reserved; name a template with the notification's "template" field`,
      });
  });
}

/** Without a `recipient`, every delivery must carry its own address; a digest needs a recipient and `routing: all`. */
function requireAddresses(
  request: { recipient?: string; routing?: string; digest?: unknown; deliveries: Array<{ to?: unknown }> },
  ctx: z.RefinementCtx,
): void {
  if (request.digest !== undefined) {
    if (request.recipient === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['recipient'],
        message: 'recipient is required with digest: digests combine the notifications of one recipient id',
      });
    if (request.routing === 'fallback')
      ctx.addIssue({
        code: 'custom',
        path: ['routing'],
        message: 'a digest sends on every channel of its notifications: use routing all (the default) with digest',
      });
  }
  if (request.recipient !== undefined) return;
  request.deliveries.forEach((d, i) => {
    if (d.to === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['deliveries', i, 'to'],
        message: 'to is required unless the notification names a recipient',
      });
  });
}

export const notificationRequestSchema = notificationRequestObject
  .superRefine(requireAddresses)
  .superRefine(requireContent)
  .describe('A notification');

/** The validated request type. */
export type NotificationRequestBody = z.output<typeof notificationRequestSchema>;

/** A batch item: a notification plus its own optional idempotency key. */
export const batchItemSchema = notificationRequestObject
  .extend({
    idempotencyKey: z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH).optional().describe('Per-item idempotency key.'),
  })
  .superRefine(requireAddresses)
  .superRefine(requireContent);

/** Links returned with every notification. */
export const linksSchema = z.object({
  self: z.string(),
  cancel: z.string(),
  retry: z.string(),
  temporalUi: z.string(),
});

/** Answer to a successful submission. */
export const acceptedSchema = z.object({
  id: z.string(),
  status: z.literal('accepted'),
  links: linksSchema,
});

/** Error body used by every 4xx/5xx answer. */
export const errorSchema = z.object({
  statusCode: z.number(),
  error: z.string(),
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const deliveryStateSchema = z.object({
  channel: z.string(),
  status: z.enum(['pending', 'sending', 'held', 'sent', 'failed', 'cancelled', 'skipped']),
  attempts: z.number(),
  currentAttempt: z.number().optional(),
  providerMessageId: z.string().optional(),
  provider: z
    .string()
    .optional()
    .describe(
      "Which of the channel's providers sent it (SMS: `twilio`, `vonage`; email: the SMTP relay's `host:port`), e.g. the second one after a failover.",
    ),
  lastError: z
    .object({ message: z.string(), type: z.string().optional(), permanent: z.boolean(), at: z.string() })
    .optional(),
  sentAt: z.string().optional(),
  skipReason: z
    .enum(['opted-out', 'suppressed'])
    .optional()
    .describe("Set when the delivery was skipped because of the recipient's preferences or the suppression list."),
  heldUntil: z.string().optional().describe("While `held`: when the recipient's quiet hours end."),
  waitingFor: z
    .string()
    .optional()
    .describe('Why the current attempt waits, e.g. `recipient-database` while PostgreSQL is unreachable.'),
  template: z
    .object({ name: z.string(), version: z.string(), locale: z.string() })
    .optional()
    .describe(
      'Templated deliveries: the template version (content hash) and locale the sent message was rendered from.',
    ),
});

/** Status of a notification as returned by `GET /v1/notifications/:id`. */
export const statusSchema = z.object({
  id: z.string(),
  status: z.enum(['accepted', 'scheduled', 'held', 'sending', 'sent', 'failed', 'cancelled', 'skipped', 'digested']),
  routing: z.enum(['all', 'fallback']).optional(),
  sendAt: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  tags: z.array(z.string()).optional(),
  deliveries: z.array(deliveryStateSchema),
  acceptedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  completedAt: z.string().optional(),
  awaitingRetryUntil: z.string().optional(),
  heldUntil: z.string().optional().describe("Status `held`: held until this instant by the recipient's quiet hours."),
  recipient: z.string().optional(),
  category: z.string().optional(),
  digestedInto: z
    .string()
    .optional()
    .describe(
      'Status `digested`: id of the digest send (dgs_…) this notification was combined into; its deliveries show that send’s outcome.',
    ),
  links: linksSchema,
});

/** Batch answer: one result per item, in request order. */
export const batchResultSchema = z.object({
  accepted: z.number(),
  rejected: z.number(),
  results: z.array(
    z.object({
      index: z.number(),
      status: z.number(),
      id: z.string().optional(),
      replay: z.boolean().optional(),
      error: errorSchema.optional(),
    }),
  ),
});

/** The Kafka record value, as validated by ingest (mirrors `NotificationEnvelope` in src/kafka/envelope.ts). */
export const envelopeSchema = z.strictObject({
  v: z.literal(1, 'unsupported envelope version'),
  id: z.string().regex(/^ntf_[a-z0-9]{26,32}$/, 'id must be a notification id (ntf_…)'),
  clientId: z.string().min(1).max(128),
  acceptedAt: z.iso.datetime({ offset: true }),
  bodyHash: z.string().regex(/^[0-9a-f]{64}$/),
  request: notificationRequestSchema,
});
