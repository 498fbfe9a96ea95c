import { z } from 'zod';
import { emailChannel } from './email/index.js';
import { slackChannel } from './slack/index.js';
import { smsChannel } from './sms/index.js';
import { webhookChannel } from './webhook/index.js';
import type { ChannelDefinition } from './types.js';

/**
 * Every channel the system knows, one line each. Adding a channel = a folder under src/channels/ plus one line here;
 * config (env vars), API validation, OpenAPI and workers are all derived from this list.
 */
export const channelRegistry = [emailChannel, smsChannel, slackChannel, webhookChannel] as const;

/** Names of the registered channels, in registry order. */
export const channelNames: readonly string[] = channelRegistry.map((c) => c.name);

const byName = new Map<string, ChannelDefinition>(
  channelRegistry.map((c) => [c.name, c as unknown as ChannelDefinition]),
);

/** The channel called `name`, or undefined when no such channel is registered. */
export function getChannel(name: string): ChannelDefinition | undefined {
  return byName.get(name);
}

/** Schema of one delivery of a given channel: `{ channel, to, content }`. */
export type DeliveryObjectSchema = z.ZodObject<
  { channel: z.ZodLiteral<string>; to: z.ZodOptional<z.ZodType>; content: z.ZodOptional<z.ZodType> },
  z.core.$strict
>;

function deliveryObject(channel: ChannelDefinition): DeliveryObjectSchema {
  return z
    .strictObject({
      channel: z.literal(channel.name),
      // Optional: a notification naming a `recipient` takes the address from the profile (checked by the request schema).
      to: channel.recipientSchema.optional(),
      // Optional: a notification naming a `template` renders it per channel (checked by the request schema).
      content: channel.contentSchema.optional(),
    })
    .describe(`${channel.name}: ${channel.description}`);
}

const known = channelNames.join(', ');

/**
 * One delivery: `{ channel, to, content }`, validated by the named channel's recipient and content schemas (a
 * discriminated union on `channel`). An unknown or missing channel fails with a message listing the known ones.
 * The gateway builds request validation and the OpenAPI document from this schema.
 */
export const deliverySchema = z.discriminatedUnion(
  'channel',
  channelRegistry.map((c) => deliveryObject(c as unknown as ChannelDefinition)) as unknown as [
    DeliveryObjectSchema,
    ...DeliveryObjectSchema[],
  ],
  {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const input = issue.input as { channel?: unknown } | undefined;
      const given = input?.channel;
      return given === undefined
        ? `channel is required; known channels: ${known}`
        : `unknown channel ${JSON.stringify(given)}; known channels: ${known}`;
    },
  },
);

/** A validated delivery (output of `deliverySchema`). */
export type DeliveryInput = z.output<typeof deliverySchema>;
