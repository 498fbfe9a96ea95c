import { z } from 'zod';
import { EVENT_TYPES } from '../shared/events.js';

const eventTypeSchema = z.enum(EVENT_TYPES, {
  error: (issue) => `unknown event type ${JSON.stringify(issue.input)}; known event types: ${EVENT_TYPES.join(', ')}`,
});

/** Body of `POST /v1/webhook-endpoints`. */
export const webhookEndpointBodySchema = z.strictObject({
  url: z
    .url({
      protocol: /^https?$/,
      error: 'url must be an http:// or https:// URL, e.g. https://example.com/hooks/notify-events',
    })
    .max(2048)
    .describe('Where events are POSTed. Checked with the webhook channel SSRF rules (WEBHOOK_ALLOWED_NETWORKS).'),
  eventTypes: z
    .array(eventTypeSchema)
    .min(1, 'eventTypes needs at least one event type')
    .max(EVENT_TYPES.length * 2)
    .describe(`Event types to receive: ${EVENT_TYPES.join(', ')}.`),
  description: z.string().max(500).optional(),
});

/** An endpoint as the API shows it (no secret). */
export const webhookEndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().optional(),
  eventTypes: z.array(z.enum(EVENT_TYPES)),
  status: z
    .enum(['enabled', 'disabled'])
    .describe('`disabled` after the receiver answered 410 Gone (see `disabledReason`): nothing is sent to it.'),
  disabledReason: z.string().optional(),
  previousSecretExpiresAt: z
    .string()
    .optional()
    .describe('After a rotation: until then deliveries carry a signature with the previous secret too.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** An endpoint with its signing secret: the answer of create and rotate, the only times the secret is shown. */
export const webhookEndpointWithSecretSchema = webhookEndpointSchema.extend({
  secret: z
    .string()
    .describe('Standard Webhooks signing secret (`whsec_<base64>`). Shown only now: store it with your receiver.'),
});

const attemptSchema = z.object({
  attempt: z.number(),
  at: z.string(),
  statusCode: z.number().optional(),
  error: z.string().optional(),
  durationMs: z.number(),
});

/** One event's delivery to an endpoint, with its attempts. */
export const eventDeliverySchema = z.object({
  eventId: z.string().describe('The `webhook-id` header: stable across attempts, deduplicate by it.'),
  eventType: z.string(),
  notificationId: z.string(),
  status: z.enum(['pending', 'retrying', 'delivered', 'failed', 'endpoint-disabled']),
  workflowId: z.string().describe('The Temporal workflow delivering it (Web UI).'),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveredAt: z.string().optional(),
  attempts: z.array(attemptSchema),
});
