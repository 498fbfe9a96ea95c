import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { onShutdown } from '../../src/runtime/shutdown.js';
import { DEV_WEBHOOK_SECRET } from './defaults.js';
import { startSinks } from './sinks.js';

/**
 * `npm run sinks`: the local protocol sinks as a service (SINKS_HOST, SINKS_HTTP_PORT, SINKS_SMTP_PORT). Credentials
 * are the ones the channels are configured with (SMS_AUTH_TOKEN, SLACK_BOT_TOKEN, WEBHOOK_SIGNING_SECRET), so the
 * embedded default works end to end and a wrong credential shows up as the provider's rejection.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, component: 'sinks' });
  const setting = (channel: string, key: string): string | undefined => {
    const value = config.channels[channel]?.settings[key];
    return typeof value === 'string' ? value : undefined;
  };
  const options = {
    host: config.SINKS_HOST,
    httpPort: config.SINKS_HTTP_PORT,
    smtpPort: config.SINKS_SMTP_PORT,
    webhookSecret: setting('webhook', 'signingSecret') ?? DEV_WEBHOOK_SECRET,
    twilioAuthToken: setting('sms', 'authToken'),
    vonageApiSecret: setting('sms', 'vonageApiSecret'),
    slackBotToken: setting('slack', 'botToken'),
    logger,
  };
  // The second relay for EMAIL_SMTP_URLS failover: SINKS_SMTP2_PORT, else (best effort) the port after SINKS_SMTP_PORT.
  const derived = config.SINKS_SMTP_PORT === 0 ? 0 : config.SINKS_SMTP_PORT + 1;
  const sinks = await startSinks({ ...options, smtp2Port: config.SINKS_SMTP2_PORT ?? derived }).catch(
    (err: unknown) => {
      if (config.SINKS_SMTP2_PORT !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      logger.warn(`port ${derived} is in use: no second SMTP sink (set SINKS_SMTP2_PORT to choose its port)`);
      return startSinks(options);
    },
  );
  logger.info(
    { http: sinks.httpUrl, smtpPort: sinks.smtpPort, smtp2Port: sinks.smtp2Port },
    `dev sinks listening: ${sinks.httpUrl} (messages at ${sinks.httpUrl}/), SMTP on ports ${sinks.smtpPort} and ${sinks.smtp2Port ?? '-'} (smtp-2)`,
  );
  onShutdown(logger, () => sinks.close());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
