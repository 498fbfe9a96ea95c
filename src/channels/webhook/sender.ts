import { createHmac } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ChannelDeps, ChannelSender, SendContext, SendResult } from '../types.js';
import { startDeadline } from '../deadline.js';
import { idempotencyHeaders, postForAnswer } from '../http.js';
import { PermanentDeliveryError } from '../errors.js';
import { NetworkPolicy } from '../network-guard.js';
import type { WebhookConfig, WebhookContent, WebhookRecipient } from './schema.js';

/** Whether `host` is allowed by the WEBHOOK_ALLOWED_HOSTS list (empty list: every host). */
export function isAllowedWebhookHost(host: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const h = host.toLowerCase();
  return allowed.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) : h === a));
}

/** HMAC key of a Standard-Webhooks secret: `whsec_<base64>` decodes to the key bytes; other secrets are UTF-8. */
export function webhookSigningKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256(key, "${id}.${timestamp}.${body}")>`, the Standard Webhooks / Svix signature. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookSigningKey(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/**
 * Builds the generic webhook sender: POSTs `{ id, notificationId, to?, content, metadata, timestamp }` as JSON,
 * signed with `webhook-id` (= idempotency key, so receivers can de-duplicate), `webhook-timestamp` and
 * `webhook-signature`. Returns the response's JSON `id` when it has one, else the idempotency key.
 */
export function createWebhookSender(
  config: WebhookConfig,
  _deps: ChannelDeps,
): ChannelSender<WebhookRecipient, WebhookContent> {
  const network = new NetworkPolicy(config.allowedNetworks, 'WEBHOOK_ALLOWED_NETWORKS');
  // Own connection pools: keep-alive sockets were opened to addresses this sender's policy checked.
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return {
    async send({ to, content }, ctx: SendContext): Promise<SendResult> {
      const target = new URL(to.url);
      const what = `webhook ${target.origin}`;
      if (!isAllowedWebhookHost(target.hostname, config.allowedHosts)) {
        throw new PermanentDeliveryError(`${what}: host ${target.hostname} is not in WEBHOOK_ALLOWED_HOSTS`);
      }
      // An IP literal is connected to without a DNS lookup: check it here; names are checked in the lookup itself.
      network.assertUrlAllowed(target, what);
      const now = Date.now();
      const timestamp = Math.floor(now / 1000);
      const body = JSON.stringify({
        id: ctx.idempotencyKey,
        notificationId: ctx.notificationId,
        to: to.recipientId,
        content,
        metadata: ctx.metadata ?? {},
        timestamp: new Date(now).toISOString(),
      });
      const deadline = startDeadline(config.timeoutMs, ctx.signal, what);
      try {
        const answer = await postForAnswer(
          to.url,
          {
            headers: {
              'Content-Type': 'application/json',
              'User-Agent': 'notify-webhooks/1',
              'webhook-id': ctx.idempotencyKey,
              'webhook-timestamp': String(timestamp),
              'webhook-signature': signWebhook(config.signingSecret, ctx.idempotencyKey, timestamp, body),
              ...idempotencyHeaders(ctx),
            },
            body,
          },
          deadline,
          what,
          { lookup: network.lookup(what), agents },
        );
        const id = (answer.json as { id?: unknown } | undefined)?.id;
        return { providerMessageId: typeof id === 'string' && id !== '' ? id : ctx.idempotencyKey };
      } finally {
        deadline.dispose();
      }
    },
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
      return Promise.resolve();
    },
  };
}
