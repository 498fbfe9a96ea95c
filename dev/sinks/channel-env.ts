import { DEV_WEBHOOK_SECRET } from './defaults.js';

/**
 * Channel settings (as environment variables) that point every channel at running dev sinks. Used by `npm start`
 * (as defaults under the user's own environment) and by tests.
 */
export function sinkChannelEnv(sinks: {
  httpUrl: string;
  smtpHost: string;
  smtpPort: number;
  webhookSecret?: string;
}): Record<string, string> {
  return {
    EMAIL_HOST: sinks.smtpHost,
    EMAIL_PORT: String(sinks.smtpPort),
    SMS_BASE_URL: sinks.httpUrl,
    // Used only when SMS_PROVIDERS lists vonage (the default is twilio alone).
    SMS_VONAGE_API_URL: sinks.httpUrl,
    SLACK_API_URL: `${sinks.httpUrl}/slack/api`,
    WEBHOOK_SIGNING_SECRET: sinks.webhookSecret ?? DEV_WEBHOOK_SECRET,
    // The webhook sink, the Slack incoming-webhook sink (and test receivers) listen on this machine: loopback must be
    // allowed explicitly.
    WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8,::1',
    SLACK_ALLOWED_NETWORKS: '127.0.0.0/8,::1',
  };
}
