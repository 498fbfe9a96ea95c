import { z } from 'zod';
import { channelNames, channelRegistry } from '../channels/registry.js';
import { CLOCK_TIME, isValidTimeZone } from '../recipients/quiet-hours.js';
import { categorySchema, recipientIdSchema } from './notification.js';

const channelEnum = z.enum(channelNames as [string, ...string[]], {
  error: `unknown channel; known channels: ${channelNames.join(', ')}`,
});

/** Addresses per channel, each validated by that channel's own recipient schema (the same as a delivery's `to`). */
export const addressesSchema = z
  .strictObject(Object.fromEntries(channelRegistry.map((c) => [c.name, c.recipientSchema.optional()])))
  .describe(
    "Channel name → address, shaped like that channel's `to` (email address, E.164 number, Slack target, webhook endpoint).",
  );

const addressesPatchSchema = z
  .strictObject(Object.fromEntries(channelRegistry.map((c) => [c.name, c.recipientSchema.nullable().optional()])))
  .describe('Addresses to set; `null` removes one.');

/** An IANA time zone name this server knows. */
export const timezoneSchema = z
  .string()
  .max(64)
  .refine(isValidTimeZone, 'timezone must be an IANA time zone such as Europe/Paris or America/New_York');
const localeSchema = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'locale must be a BCP 47 tag such as en, fr-CA or pt-BR');
const propertiesSchema = z
  .record(z.string().min(1).max(64), z.unknown())
  .refine((p) => Object.keys(p).length <= 50, 'at most 50 properties')
  .refine((p) => JSON.stringify(p).length <= 16_384, 'properties are at most 16 KiB of JSON');
const clockSchema = z.string().regex(CLOCK_TIME, 'must be a 24-hour time HH:MM or HH:MM:SS, e.g. 22:00');

/** Quiet hours in the recipient's time zone; `start` later than `end` spans midnight (22:00–07:00). */
export const quietHoursSchema = z
  .strictObject({ start: clockSchema, end: clockSchema })
  .describe(
    'Deliveries due inside this window are held until it ends (categories in URGENT_CATEGORIES are sent at once).',
  );

/** `PUT /v1/recipients/{id}` body. */
export const recipientBodySchema = z
  .strictObject({
    addresses: addressesSchema.default({}),
    timezone: timezoneSchema.optional(),
    locale: localeSchema.optional(),
    properties: propertiesSchema.default({}),
    quietHours: quietHoursSchema.optional(),
  })
  .describe('A recipient profile');

/** `PATCH /v1/recipients/{id}` body (JSON merge patch: `null` removes a field, an address or a property). */
export const recipientPatchSchema = z
  .strictObject({
    addresses: addressesPatchSchema.optional(),
    timezone: timezoneSchema.nullable().optional(),
    locale: localeSchema.nullable().optional(),
    properties: z.record(z.string().min(1).max(64), z.unknown()).optional(),
    quietHours: quietHoursSchema.nullable().optional(),
  })
  .describe('Changes to a recipient profile');

/** Preferences: per channel, and per category (optionally per channel inside a category); `false` opts out. */
export const preferencesSchema = z
  .strictObject({
    channels: z.partialRecord(channelEnum, z.boolean()).optional(),
    categories: z
      .record(
        categorySchema,
        z.strictObject({
          enabled: z.boolean().optional(),
          channels: z.partialRecord(channelEnum, z.boolean()).optional(),
        }),
      )
      .refine((c) => Object.keys(c).length <= 100, 'at most 100 categories')
      .optional(),
  })
  .describe(
    'Opt-in (true) / opt-out (false) per channel and per category; absent entries follow the operator defaults.',
  );

/** A stored recipient as the API returns it. */
export const recipientSchema = z.object({
  id: z.string(),
  addresses: z.record(z.string(), z.unknown()),
  timezone: z.string().optional(),
  locale: z.string().optional(),
  properties: z.record(z.string(), z.unknown()),
  quietHours: z.object({ start: z.string(), end: z.string() }).optional(),
  preferences: preferencesSchema,
  version: z
    .number()
    .describe('Increases with every change; also the ETag. Send it as If-Match to update only that version.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** `POST /v1/suppressions` body. */
export const suppressionBodySchema = z.strictObject({
  channel: channelEnum,
  address: z
    .string()
    .min(1)
    .max(512)
    .describe('The address as the channel uses it: email address, E.164 number, Slack channel, webhook URL.'),
  reason: z.string().min(1).max(500).optional(),
});

/** A suppression as the API returns it. */
export const suppressionSchema = z.object({
  channel: z.string(),
  address: z.string(),
  reason: z.string(),
  source: z
    .enum(['api', 'automatic'])
    .describe(
      '`automatic`: recorded when the channel reported a permanent address failure (hard bounce, unknown number…).',
    ),
  recipientId: z.string().optional(),
  notificationId: z.string().optional(),
  createdAt: z.string(),
});

export { recipientIdSchema };
