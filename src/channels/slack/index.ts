import { defineChannel } from '../types.js';
import { slackConfigSchema, slackContentSchema, slackDevelopmentSettings, slackRecipientSchema } from './schema.js';
import { createSlackSender } from './sender.js';

/** Slack messages: chat.postMessage with a bot token, or an incoming webhook. */
export const slackChannel = defineChannel({
  name: 'slack',
  description:
    'Slack message. `to` is { channel } (bot token, chat.postMessage) or { webhookUrl }; content has text and optional blocks.',
  recipientSchema: slackRecipientSchema,
  contentSchema: slackContentSchema,
  configSchema: slackConfigSchema,
  developmentSettings: slackDevelopmentSettings,
  createSender: createSlackSender,
});

export { createSlackSender, slackDeliveryError } from './sender.js';
export { slackConfigSchema, slackContentSchema, slackDevelopmentSettings, slackRecipientSchema } from './schema.js';
export type { SlackConfig, SlackContent, SlackRecipient } from './schema.js';
