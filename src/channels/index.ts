/** Public surface of the channels: the registry and its helpers, the plugin contract and the typed errors. */
export { channelNames, channelRegistry, deliverySchema, getChannel } from './registry.js';
export type { DeliveryInput, DeliveryObjectSchema } from './registry.js';
export { defineChannel } from './types.js';
export type { ChannelDefinition, ChannelDeps, ChannelSender, SendContext, SendResult } from './types.js';
export {
  DeliveryError,
  errorForHttpStatus,
  parseRetryAfter,
  PermanentDeliveryError,
  TransientDeliveryError,
} from './errors.js';
export { startDeadline, raceDeadline } from './deadline.js';
export type { Deadline } from './deadline.js';
export { describeBody, fetchWithLookup, idempotencyHeaders, networkMessage, parseJson, postForAnswer } from './http.js';
export { internalRangeOf, NetworkPolicy, parseNetworkList, unmapIpv4 } from './network-guard.js';
export type { HttpAnswer } from './http.js';
export { allowedNetworksSetting, baseUrlSetting, boolSetting, intSetting, timeoutSetting } from './config-fields.js';
