/** Zod schemas of the public request format and the Kafka envelope, shared by the gateway and ingest. */
export {
  acceptedSchema,
  batchItemSchema,
  batchResultSchema,
  envelopeSchema,
  errorSchema,
  linksSchema,
  MAX_DELIVERIES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_SCHEDULE_AHEAD_MS,
  notificationRequestSchema,
  statusSchema,
} from './notification.js';
export type { NotificationRequestBody } from './notification.js';
export { issuesFromZod } from './issues.js';
export {
  eventDeliverySchema,
  webhookEndpointBodySchema,
  webhookEndpointSchema,
  webhookEndpointWithSecretSchema,
} from './webhook-endpoints.js';
