import { defineChannel } from '../types.js';
import {
  webhookConfigSchema,
  webhookContentSchema,
  webhookDevelopmentSettings,
  webhookRecipientSchema,
} from './schema.js';
import { createWebhookSender } from './sender.js';

/** Signed generic webhooks (Standard Webhooks / Svix signature scheme). */
export const webhookChannel = defineChannel({
  name: 'webhook',
  description:
    'Signed JSON POST to `to.url` (Standard Webhooks headers webhook-id / webhook-timestamp / webhook-signature); content is any JSON object.',
  recipientSchema: webhookRecipientSchema,
  contentSchema: webhookContentSchema,
  configSchema: webhookConfigSchema,
  developmentSettings: webhookDevelopmentSettings,
  createSender: createWebhookSender,
});

export { createWebhookSender, signWebhook, webhookSigningKey } from './sender.js';
export {
  DEV_WEBHOOK_SIGNING_SECRET,
  MAX_WEBHOOK_CONTENT_BYTES,
  webhookConfigSchema,
  webhookContentSchema,
  webhookDevelopmentSettings,
  webhookRecipientSchema,
} from './schema.js';
export type { WebhookConfig, WebhookContent, WebhookRecipient } from './schema.js';
