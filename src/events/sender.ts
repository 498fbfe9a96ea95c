import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { startDeadline } from '../channels/deadline.js';
import { DeliveryError } from '../channels/errors.js';
import { postForAnswer } from '../channels/http.js';
import { NetworkPolicy } from '../channels/network-guard.js';
import { isAllowedWebhookHost } from '../channels/webhook/sender.js';
import type { EndpointUrlRules } from './url-check.js';
import { standardWebhookHeaders } from './signing.js';

/** Result of one POST of an event: the receiver's status code, or the error (and status code, when there was one). */
export type EventPostResult = { ok: true; statusCode: number } | { ok: false; statusCode?: number; error: string };

/**
 * POSTs signed events to webhook endpoints: Standard Webhooks headers (`webhook-id` = event id, `webhook-timestamp`
 * = this attempt's time, `webhook-signature` with every valid secret), the SSRF rules of the webhook channel checked
 * on the addresses actually connected to, no redirects followed. Any 2xx is a success; everything else is a failure
 * the delivery workflow retries (a 410 disables the endpoint).
 */
export class EventSender {
  private readonly network: NetworkPolicy;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  constructor(private readonly rules: EndpointUrlRules) {
    this.network = new NetworkPolicy(rules.allowedNetworks, 'WEBHOOK_ALLOWED_NETWORKS');
  }

  /** One attempt; never throws for a receiver's answer or a network error (they are the result). */
  async post(
    input: { url: string; secrets: readonly string[]; eventId: string; body: string; timeoutMs: number },
    signal: AbortSignal,
    now: () => number = Date.now,
  ): Promise<EventPostResult> {
    const target = new URL(input.url);
    const what = `webhook endpoint ${target.origin}`;
    if (!isAllowedWebhookHost(target.hostname, this.rules.allowedHosts))
      return { ok: false, error: `${what}: host ${target.hostname} is not in WEBHOOK_ALLOWED_HOSTS` };
    const deadline = startDeadline(input.timeoutMs, signal, what);
    try {
      this.network.assertUrlAllowed(target, what);
      const answer = await postForAnswer(
        input.url,
        {
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'notify-events/1',
            ...standardWebhookHeaders(input.secrets, input.eventId, Math.floor(now() / 1000), input.body),
          },
          body: input.body,
        },
        deadline,
        what,
        { lookup: this.network.lookup(what), agents: this.agents },
      );
      return { ok: true, statusCode: answer.status };
    } catch (err) {
      if (err instanceof DeliveryError)
        return { ok: false, ...(err.code !== undefined ? { statusCode: err.code } : {}), error: err.message };
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      deadline.dispose();
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
