import type { CircuitState } from './circuit-breaker.js';
import type { z } from 'zod';
import type { Logger } from 'pino';

/** Per-send context handed to a sender by the activity layer. */
export interface SendContext {
  /** Stable across retries of the same delivery: notification id + channel. Use as provider idempotency key / Message-ID. */
  idempotencyKey: string;
  notificationId: string;
  /** Aborted when the activity is cancelled or the worker shuts down past its grace time. */
  signal: AbortSignal;
  metadata?: Record<string, string>;
  /**
   * Called once per provider call a send makes (a channel with several providers may call more than one), so the
   * activity layer can count outcomes per provider. Optional: senders without failover need not call it.
   */
  onProviderAttempt?: (attempt: ProviderAttempt) => void;
}

/** Outcome of one call to one provider. */
export interface ProviderAttempt {
  provider: string;
  result: 'sent' | 'permanent' | 'transient';
  durationMs: number;
}

/** What a successful send returns; the provider id is recorded so duplicates can be traced. */
export interface SendResult {
  providerMessageId: string;
  /** Which of the channel's providers accepted the message (e.g. `twilio`, `vonage`, `smtp.example.com:587`). */
  provider?: string;
}

/** Sends messages of one channel. Throws `PermanentDeliveryError` / `TransientDeliveryError` on failure. */
export interface ChannelSender<TTo, TContent> {
  send(message: { to: TTo; content: TContent }, ctx: SendContext): Promise<SendResult>;
  /** Releases pooled connections; called on worker shutdown. */
  close(): Promise<void>;
  /** State of each provider's circuit breaker, for senders with failover (the worker exports it as a metric). */
  circuits?(): Record<string, CircuitState>;
}

/** Dependencies a channel may use to build its sender. */
export interface ChannelDeps {
  logger: Logger;
}

/**
 * A channel plugin: everything the rest of the system derives from one folder under `src/channels/<name>/`.
 *
 * - `recipientSchema` / `contentSchema` validate the API request and the Kafka record, and feed the OpenAPI document;
 * - `configSchema` is read from environment variables `<NAME>_<KEY_IN_UPPER_SNAKE_CASE>` by the config module;
 * - `createSender` is called once per worker process that serves this channel's task queue.
 */
export interface ChannelDefinition<
  TRecipient extends z.ZodType = z.ZodType,
  TContent extends z.ZodType = z.ZodType,
  TConfig extends z.ZodObject = z.ZodObject,
> {
  name: string;
  description: string;
  recipientSchema: TRecipient;
  contentSchema: TContent;
  configSchema: TConfig;
  createSender(config: z.infer<TConfig>, deps: ChannelDeps): ChannelSender<z.infer<TRecipient>, z.infer<TContent>>;
  /**
   * Settings that still hold development values (the dev sinks, their credentials, the published webhook secret):
   * a production worker refuses to serve the channel while this returns anything. `key` is the configSchema key.
   */
  developmentSettings?(config: z.infer<TConfig>): DevelopmentSetting[];
}

/** A channel setting that still holds a development value, and what to do about it. */
export interface DevelopmentSetting {
  key: string;
  problem: string;
}

/** Identity helper that keeps the generic parameters of a channel definition inferred. */
export function defineChannel<TRecipient extends z.ZodType, TContent extends z.ZodType, TConfig extends z.ZodObject>(
  definition: ChannelDefinition<TRecipient, TContent, TConfig>,
): ChannelDefinition<TRecipient, TContent, TConfig> {
  return definition;
}
