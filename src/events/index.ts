/** Delivery events to the caller: webhook endpoint store, Standard Webhooks signing, the event sender, URL checks. */
export { EventSender } from './sender.js';
export type { EventPostResult } from './sender.js';
export { generateEndpointSecret, signatureHeader, standardWebhookHeaders } from './signing.js';
export { EndpointPresence } from './endpoint-presence.js';
export type { EndpointLookup, EndpointPresenceOptions } from './endpoint-presence.js';
export { WebhookEndpointStore } from './store.js';
export type {
  EndpointForDelivery,
  EventDelivery,
  EventDeliveryAttempt,
  EventDeliveryStatus,
  WebhookEndpoint,
} from './store.js';
export { endpointUrlProblem } from './url-check.js';
export type { EndpointUrlRules } from './url-check.js';
