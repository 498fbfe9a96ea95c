import type { Logger } from 'pino';
import type { AuthSettings } from '../auth/principal.js';
import type { AppConfig } from '../config/config.js';
import type { OutgoingMessage } from '../kafka/batching-producer.js';
import type { GatewayObservability } from '../observability/gateway.js';
import type { PayloadKeyring } from '../crypto/keyring.js';
import type { NotificationClient } from '../temporal/notification-client.js';
import type { RecipientStore } from '../recipients/store.js';
import type { WebhookEndpointDeps } from './routes/webhook-endpoints.js';
import type { TemplateStore } from '../templates/index.js';

/** Gateway settings it reads from the configuration. */
export type GatewayConfig = Pick<
  AppConfig,
  | 'HTTP_BODY_LIMIT_BYTES'
  | 'HTTP_REQUEST_TIMEOUT_MS'
  | 'BATCH_MAX_ITEMS'
  | 'PUBLIC_BASE_URL'
  | 'TEMPORAL_UI_URL'
  | 'TEMPORAL_NAMESPACE'
  | 'KAFKA_PRODUCE_TIMEOUT_MS'
  | 'RATE_LIMIT_MAX'
  | 'RATE_LIMIT_WINDOW_MS'
  | 'RATE_LIMIT_UNAUTHENTICATED_MAX'
  | 'NOTIFY_ENV'
  | 'HTTP_HOST'
  | 'DISABLED_CHANNELS'
>;

/** What the gateway needs from Kafka: acknowledged writes and a readiness flag. */
export interface RecordSink {
  send(message: OutgoingMessage): Promise<void>;
  isConnected(): boolean;
}

/** Everything the gateway depends on, injected by `main.ts` (or a test). */
export interface GatewayDeps {
  config: GatewayConfig;
  producer: RecordSink;
  notifications: Pick<NotificationClient, 'lookup' | 'memo' | 'cancel' | 'retry'>;
  logger: Logger;
  /** API-key authentication: the configured keys, or `{ disabled: true }` (AUTH_DISABLED=true). */
  auth: AuthSettings;
  /**
   * Encrypts the request inside Kafka records and backs the `/codec` endpoint. Without it records carry the request
   * in clear and there is no codec endpoint (unit tests); every entry point passes one.
   */
  payloadKeyring?: PayloadKeyring;
  /**
   * Recipients, preferences and suppressions (PostgreSQL): serves `/v1/recipients` and `/v1/suppressions`, and lets a
   * submit naming an unknown recipient answer 404. Absent: those routes do not exist (unit tests).
   */
  recipients?: RecipientStore;
  /**
   * Webhook endpoints for delivery events (PostgreSQL; the SSRF rules of the webhook channel): serves
   * `/v1/webhook-endpoints`. Absent: those routes do not exist (unit tests).
   */
  webhookEndpoints?: WebhookEndpointDeps;
  /**
   * Compiled templates (TEMPLATES_DIR): the submit-time check of templated notifications and `/v1/templates`.
   * Absent: those routes do not exist and a notification naming a template answers 400 (unknown template).
   */
  templates?: TemplateStore;
  /** `/metrics` and per-request metrics and tracing; absent in tests that do not look at them. */
  observability?: GatewayObservability;
}
