import { z } from 'zod';
import { allowedNetworksSetting, timeoutSetting } from '../config-fields.js';
import type { DevelopmentSetting } from '../types.js';

/** Largest serialised `content` accepted for one webhook. */
export const MAX_WEBHOOK_CONTENT_BYTES = 256 * 1024;

/** Recipient: the endpoint to POST to, plus an optional addressee id passed on as `to` in the payload. */
export const webhookRecipientSchema = z
  .strictObject({
    url: z.url({
      protocol: /^https?$/,
      error: 'url must be an http:// or https:// URL, e.g. https://example.com/hooks/notify',
    }),
    recipientId: z.string().min(1).max(256).optional().describe('Addressee in the receiving system; sent as `to`.'),
  })
  .describe('Webhook endpoint.');

/** Content: any JSON object, delivered as `content` in the signed payload. */
export const webhookContentSchema = z
  .record(z.string(), z.unknown())
  .refine(
    (c) => Buffer.byteLength(JSON.stringify(c)) <= MAX_WEBHOOK_CONTENT_BYTES,
    `content may be at most ${MAX_WEBHOOK_CONTENT_BYTES} bytes of JSON`,
  )
  .describe('Any JSON object.');

/**
 * Development signing secret: published in this repository (it matches the dev sink's), so anyone can sign with it.
 * Production workers refuse it (see `webhookDevelopmentSettings`).
 */
export const DEV_WEBHOOK_SIGNING_SECRET = 'whsec_bm90aWZ5LWRldi13ZWJob29rLXNlY3JldA==';

/** Webhook settings, env `WEBHOOK_<KEY>`. The default secret matches the dev sink's. */
export const webhookConfigSchema = z.object({
  /** Standard-Webhooks secret: `whsec_<base64>` (the decoded bytes are the HMAC key), or a plain string of ≥ 16 characters. */
  signingSecret: z
    .string()
    .refine(
      (s) => (s.startsWith('whsec_') ? /^[A-Za-z0-9+/]{16,}={0,2}$/.test(s.slice(6)) : s.length >= 16),
      'expected whsec_<base64> or a secret of at least 16 characters',
    )
    .default(DEV_WEBHOOK_SIGNING_SECRET),
  timeoutMs: timeoutSetting(10_000),
  /**
   * Hosts webhooks may be sent to (comma-separated; `*.example.com` matches subdomains). Empty = any host. Set it in
   * production: recipient URLs come from API callers, and without a list they could target internal services.
   */
  allowedHosts: z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      (Array.isArray(v) ? v : v.split(',')).map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0),
    )
    .default([]),
  /**
   * Internal networks webhooks may still reach (comma-separated CIDRs or addresses, e.g. `127.0.0.0/8,::1`). By default
   * every loopback, link-local (cloud metadata), private, unique-local, multicast and unspecified address is refused,
   * checked on the addresses DNS returns. `npm start` and the tests allow loopback for the dev sinks.
   */
  allowedNetworks: allowedNetworksSetting(),
});

/** Recipient type of the webhook channel. */
export type WebhookRecipient = z.infer<typeof webhookRecipientSchema>;
/** Content type of the webhook channel. */
export type WebhookContent = z.infer<typeof webhookContentSchema>;
/** Parsed settings of the webhook channel. */
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

/**
 * Webhook settings still at development values. One signing secret per deployment: every receiver verifies with it,
 * so give it only to receivers you trust with each other's webhooks (see the channel README).
 */
export function webhookDevelopmentSettings(config: WebhookConfig): DevelopmentSetting[] {
  return config.signingSecret === DEV_WEBHOOK_SIGNING_SECRET
    ? [
        {
          key: 'signingSecret',
          problem:
            'is the development secret published in the repository, so anyone could forge webhooks to your receivers; create one with `npm run keys -- webhook-secret` and give it to your receivers',
        },
      ]
    : [];
}
