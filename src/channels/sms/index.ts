import { defineChannel } from '../types.js';
import { smsConfigSchema, smsContentSchema, smsDevelopmentSettings, smsRecipientSchema } from './schema.js';
import { createSmsSender } from './sender.js';

/** SMS through Twilio's Messages API (or any compatible provider / the dev sink) and Vonage, in failover order. */
export const smsChannel = defineChannel({
  name: 'sms',
  description:
    'SMS via a Twilio-compatible Messages API and/or Vonage (failover in SMS_PROVIDERS order). `to` is an E.164 number; content has a body of up to 1600 characters.',
  recipientSchema: smsRecipientSchema,
  contentSchema: smsContentSchema,
  configSchema: smsConfigSchema,
  developmentSettings: smsDevelopmentSettings,
  createSender: createSmsSender,
});

export { createSmsSender } from './sender.js';
export { createTwilioSender } from './twilio-sender.js';
export { createVonageSender, vonageDeliveryError } from './vonage-sender.js';
export {
  E164,
  SMS_PROVIDERS,
  smsConfigSchema,
  smsContentSchema,
  smsDevelopmentSettings,
  smsRecipientSchema,
} from './schema.js';
export type { SmsConfig, SmsContent, SmsProviderName, SmsRecipient } from './schema.js';
