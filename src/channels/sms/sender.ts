import type { ChannelDeps } from '../types.js';
import { createFailoverSender } from '../failover.js';
import type { FailoverSender, NamedProvider } from '../failover.js';
import type { SmsConfig, SmsContent, SmsProviderName, SmsRecipient } from './schema.js';
import { createTwilioSender } from './twilio-sender.js';
import { createVonageSender } from './vonage-sender.js';

const FACTORIES: Record<
  SmsProviderName,
  (config: SmsConfig, deps: ChannelDeps) => NamedProvider<SmsRecipient, SmsContent>['sender']
> = {
  twilio: createTwilioSender,
  vonage: createVonageSender,
};

/**
 * Builds the SMS channel's sender: the providers of `SMS_PROVIDERS` in order (Twilio-compatible, Vonage), with a
 * circuit breaker each (see failover.ts). The provider reported in status and metrics is `twilio` or `vonage`.
 */
export function createSmsSender(config: SmsConfig, deps: ChannelDeps): FailoverSender<SmsRecipient, SmsContent> {
  return createFailoverSender(
    config.providers.map((name) => ({ name, sender: FACTORIES[name](config, deps) })),
    {
      circuit: {
        failureThreshold: config.circuitFailureThreshold,
        windowMs: config.circuitWindowMs,
        cooldownMs: config.circuitCooldownMs,
      },
      logger: deps.logger,
    },
  );
}
