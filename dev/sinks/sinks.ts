import type { Logger } from 'pino';
import type { FaultRule } from './faults.js';
import { faultRulesSchema } from './faults.js';
import { startHttpSink } from './http-sink.js';
import { startSmtpSink } from './smtp-sink.js';
import { SinkStore } from './store.js';
import type { MessageFilter, SinkMessage } from './store.js';

/** Options of `startSinks`. Ports 0 pick free ephemeral ports, so every test file can run its own sinks. */
export interface SinksOptions {
  host: string;
  httpPort: number;
  smtpPort: number;
  /**
   * Port of a second SMTP sink (provider tag `smtp-2`: a second relay for failover tests; 0 = any free port). Not
   * started when undefined.
   */
  smtp2Port?: number;
  /** Secret the generic webhook receiver verifies signatures with (same as WEBHOOK_SIGNING_SECRET). */
  webhookSecret: string;
  /** When set, the Twilio endpoint accepts only this auth token (else any non-empty token). */
  twilioAuthToken?: string;
  /** When set, the Vonage endpoint accepts only this API secret (else any non-empty key and secret). */
  vonageApiSecret?: string;
  /** When set, the Slack API accepts only this bot token (else any non-empty token). */
  slackBotToken?: string;
  logger?: Logger;
}

/** Handle on running sinks: where they listen, what they received, and fault control. */
export interface RunningSinks {
  /** Base URL of the HTTP sink, e.g. `http://127.0.0.1:4010` (Twilio base URL; Slack API at `/slack/api`). */
  httpUrl: string;
  smtpPort: number;
  /** Port of the second SMTP sink (`smtp-2`), when started. */
  smtp2Port?: number;
  /** Received messages, oldest first; filter by fields or a predicate. */
  received(filter?: MessageFilter | ((m: SinkMessage) => boolean)): SinkMessage[];
  /** Resolves with the first matching message (already received or not); rejects after `timeoutMs`. */
  waitFor(predicate: (m: SinkMessage) => boolean, timeoutMs: number): Promise<SinkMessage>;
  /** Replaces the fault rules (validated; throws with a message naming the bad field). */
  setFaults(rules: FaultRule[]): void;
  clearFaults(): void;
  /** Forgets received messages and attempt counters. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Starts the local protocol sinks: an SMTP server (and optionally a second one, `smtp-2`) and an HTTP server speaking
 * Twilio's Messages API, Vonage's Messages API, Slack's Web API and incoming webhooks, and signed generic webhooks. They record what they receive and can inject faults, so the
 * channels are exercised over the real protocols without any external provider.
 */
export async function startSinks(options: SinksOptions): Promise<RunningSinks> {
  const store = new SinkStore();
  const smtp = await startSmtpSink({ host: options.host, port: options.smtpPort, store, logger: options.logger });
  const smtp2 =
    options.smtp2Port === undefined
      ? undefined
      : await startSmtpSink({
          host: options.host,
          port: options.smtp2Port,
          store,
          logger: options.logger,
          provider: 'smtp-2',
        }).catch(async (err: unknown) => {
          await smtp.close();
          throw err;
        });
  const http = await startHttpSink({
    host: options.host,
    port: options.httpPort,
    store,
    webhookSecret: options.webhookSecret,
    twilioAuthToken: options.twilioAuthToken,
    vonageApiSecret: options.vonageApiSecret,
    slackBotToken: options.slackBotToken,
    logger: options.logger,
  }).catch(async (err: unknown) => {
    await Promise.all([smtp.close(), smtp2?.close()]);
    throw err;
  });
  return {
    httpUrl: http.url,
    smtpPort: smtp.port,
    ...(smtp2 !== undefined ? { smtp2Port: smtp2.port } : {}),
    received: (filter) => store.received(filter),
    waitFor: (predicate, timeoutMs) => store.waitFor(predicate, timeoutMs),
    setFaults(rules) {
      const parsed = faultRulesSchema.safeParse(rules);
      if (!parsed.success)
        throw new Error(
          `invalid fault rules: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      store.setFaults(parsed.data);
    },
    clearFaults: () => store.setFaults([]),
    reset: () => store.reset(),
    close: async () => {
      await Promise.all([http.close(), smtp.close(), smtp2?.close()]);
    },
  };
}
