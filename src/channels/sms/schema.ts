import { z } from 'zod';
import { baseUrlSetting, circuitSettings, isDevSinkUrl, listSetting, timeoutSetting } from '../config-fields.js';
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

/** The SMS providers notify has a client for. */
export const SMS_PROVIDERS = ['twilio', 'vonage'] as const;
/** One of SMS_PROVIDERS. */
export type SmsProviderName = (typeof SMS_PROVIDERS)[number];

/** `SMS_PROVIDERS`: the ordered provider list, e.g. `twilio,vonage` (failover order). */
const providersSetting = listSetting()
  .pipe(
    z
      .array(z.enum(SMS_PROVIDERS, { error: `each provider must be one of ${SMS_PROVIDERS.join(', ')}` }))
      .min(1, `name at least one provider (${SMS_PROVIDERS.join(', ')})`)
      .refine((list) => new Set(list).size === list.length, 'a provider is listed twice'),
  )
  .default(['twilio']);

/**
 * SMS settings, env `SMS_<KEY>`: the ordered provider list, Twilio-compatible settings, Vonage settings and the
 * circuit breaker. Defaults point at the dev sink (http://127.0.0.1:4010) with its
 * development credentials.
 */
export const smsConfigSchema = z.object({
  /** Providers in failover order (`SMS_PROVIDERS=twilio,vonage`); the default is Twilio alone. */
  providers: providersSetting,
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
  /** Vonage Messages API host (the SDK's `apiHost`); `https://api.nexmo.com` in production. */
  vonageApiUrl: baseUrlSetting('http://127.0.0.1:4010'),
  vonageApiKey: z.string().min(1).default('dev-vonage-key'),
  vonageApiSecret: z.string().min(1).default('dev-vonage-secret'),
  /** Vonage sender (number or alphanumeric id); SMS_FROM when unset. */
  vonageFrom: z
    .string()
    .regex(
      /^(\+?[1-9]\d{1,14}|[A-Za-z0-9 ]{1,11})$/,
      'a phone number such as 15005550006 or an alphanumeric sender id (≤ 11 characters)',
    )
    .optional(),
  ...circuitSettings(),
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
  if (config.providers.includes('vonage')) {
    if (isDevSinkUrl(config.vonageApiUrl))
      out.push({
        key: 'vonageApiUrl',
        problem: `points at the development sink (${config.vonageApiUrl}); set https://api.nexmo.com`,
      });
    if (config.vonageApiKey === 'dev-vonage-key' || config.vonageApiSecret === 'dev-vonage-secret')
      out.push({
        key: 'vonageApiKey',
        problem: "is the dev sink's credential; set SMS_VONAGE_API_KEY and SMS_VONAGE_API_SECRET",
      });
  }
  if (!config.providers.includes('twilio')) return out;
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
