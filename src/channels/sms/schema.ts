import { z } from 'zod';
import { baseUrlSetting, isDevSinkUrl, timeoutSetting } from '../config-fields.js';
import type { DevelopmentSetting } from '../types.js';

/** E.164: `+`, country code, subscriber number; 2–15 digits in all. */
export const E164 = /^\+[1-9]\d{1,14}$/;

/** Recipient: a phone number in E.164 form. */
export const smsRecipientSchema = z
  .string()
  .regex(E164, 'must be a phone number in E.164 form, e.g. +14155550123 (no spaces or dashes)')
  .describe('Phone number in E.164 form, e.g. +14155550123.');

/** SMS content: the message body (Twilio splits long bodies into segments; 1600 characters at most). */
export const smsContentSchema = z
  .strictObject({
    body: z.string().min(1, 'body is required').max(1600, 'body may be at most 1600 characters'),
  })
  .describe('SMS content.');

/**
 * Twilio-compatible settings, env `SMS_<KEY>`. Defaults point at the dev sink (http://127.0.0.1:4010) with its
 * development credentials.
 */
export const smsConfigSchema = z.object({
  /** Twilio API base; `https://api.twilio.com` in production. */
  baseUrl: baseUrlSetting('http://127.0.0.1:4010'),
  accountSid: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'a Twilio Account SID: AC followed by 32 hex digits')
    .default('AC00000000000000000000000000000000'),
  authToken: z.string().min(1).default('dev-auth-token'),
  /** Sender number (E.164) or alphanumeric sender id; ignored when messagingServiceSid is set. */
  from: z
    .string()
    .regex(
      /^(\+[1-9]\d{1,14}|[A-Za-z0-9 ]{1,11})$/,
      'an E.164 number such as +15005550006 or an alphanumeric sender id (≤ 11 characters)',
    )
    .default('+15005550006'),
  messagingServiceSid: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID: MG followed by 32 hex digits')
    .optional(),
  timeoutMs: timeoutSetting(10_000),
});

/** Recipient type of the sms channel. */
export type SmsRecipient = z.infer<typeof smsRecipientSchema>;
/** Content type of the sms channel. */
export type SmsContent = z.infer<typeof smsContentSchema>;
/** Parsed settings of the sms channel. */
export type SmsConfig = z.infer<typeof smsConfigSchema>;

/** SMS settings still at development values: the dev sink's Twilio API and its test credentials. */
export function smsDevelopmentSettings(config: SmsConfig): DevelopmentSetting[] {
  const out: DevelopmentSetting[] = [];
  if (isDevSinkUrl(config.baseUrl))
    out.push({
      key: 'baseUrl',
      problem: `points at the development sink (${config.baseUrl}); set https://api.twilio.com (or your provider's Twilio-compatible API)`,
    });
  if (config.accountSid === 'AC00000000000000000000000000000000')
    out.push({ key: 'accountSid', problem: 'is the development placeholder; set your Twilio Account SID' });
  if (config.authToken === 'dev-auth-token')
    out.push({ key: 'authToken', problem: "is the dev sink's token (dev-auth-token); set your Twilio auth token" });
  if (config.messagingServiceSid === undefined && config.from === '+15005550006')
    out.push({
      key: 'from',
      problem: "is Twilio's test number +15005550006; set your sender number or SMS_MESSAGING_SERVICE_SID",
    });
  return out;
}
