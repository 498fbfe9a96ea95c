import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { NetworkPolicy } from '../channels/network-guard.js';
import { isAllowedWebhookHost } from '../channels/webhook/sender.js';

/** The webhook channel's SSRF settings (WEBHOOK_ALLOWED_NETWORKS, WEBHOOK_ALLOWED_HOSTS), applied to endpoint URLs too. */
export interface EndpointUrlRules {
  allowedNetworks: readonly string[];
  allowedHosts: readonly string[];
}

/**
 * Why `url` may not be registered as a webhook endpoint, or undefined when it may: the same rules as the webhook
 * channel (hosts outside WEBHOOK_ALLOWED_HOSTS; loopback, link-local, private, … addresses unless in
 * WEBHOOK_ALLOWED_NETWORKS), checked on every address the host resolves to now. Each delivery checks again when it
 * connects (a name can resolve elsewhere later).
 */
export async function endpointUrlProblem(
  url: string,
  rules: EndpointUrlRules,
  resolve: (host: string) => Promise<Array<{ address: string }>> = (host) => lookup(host, { all: true }),
): Promise<string | undefined> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!isAllowedWebhookHost(host, rules.allowedHosts)) return `host ${host} is not in WEBHOOK_ALLOWED_HOSTS`;
  const policy = new NetworkPolicy(rules.allowedNetworks, 'WEBHOOK_ALLOWED_NETWORKS');
  let addresses: Array<{ address: string }>;
  if (isIP(host) !== 0) addresses = [{ address: host }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return `host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`;
    }
  }
  for (const { address } of addresses) {
    const why = policy.refusal(address);
    if (why !== undefined) {
      return `refused: ${why}${address === host ? '' : ` (${host} resolves to it)`}; internal targets need an explicit WEBHOOK_ALLOWED_NETWORKS entry`;
    }
  }
  return undefined;
}
