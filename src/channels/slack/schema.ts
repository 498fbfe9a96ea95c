import { z } from 'zod';
import { allowedNetworksSetting, baseUrlSetting, isDevSinkUrl, timeoutSetting } from '../config-fields.js';
import type { DevelopmentSetting } from '../types.js';

/** A conversation for chat.postMessage: an id (C…, G…, D…, or a user id U…/W… for a DM) or `#channel-name`. */
const conversation = z
  .string()
  .regex(
    /^([CGDUW][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]{0,79})$/,
    'must be a Slack conversation id like C0123ABCD or a channel name like #alerts',
  );

/** Recipient: a conversation (sent with the bot token) or an incoming-webhook URL. */
export const slackRecipientSchema = z
  .union(
    [
      z.strictObject({ channel: conversation }),
      z.strictObject({
        webhookUrl: z.url({
          protocol: /^https?$/,
          error: 'must be an incoming-webhook URL like https://hooks.slack.com/services/…',
        }),
      }),
    ],
    {
      error:
        'to must be { "channel": "C0123ABCD" | "#name" } or { "webhookUrl": "https://hooks.slack.com/services/…" }',
    },
  )
  .describe('{ channel } to post with the bot token, or { webhookUrl } for an incoming webhook.');

/** Slack content: `text` (always required: notifications and accessibility fallback) and optional Block Kit blocks. */
export const slackContentSchema = z
  .strictObject({
    text: z.string().min(1, 'text is required (it is the fallback when blocks are used)').max(40_000),
    blocks: z
      .array(z.looseObject({ type: z.string().min(1, 'each block needs a type') }))
      .max(50, 'at most 50 blocks')
      .optional()
      .describe('Block Kit blocks.'),
  })
  .describe('Slack message content.');

/** Slack settings, env `SLACK_<KEY>`. Defaults point at the dev sink's Slack API. */
export const slackConfigSchema = z.object({
  botToken: z.string().min(1).default('xoxb-dev-token'),
  /** Web API base URL; `https://slack.com/api` in production. */
  apiUrl: baseUrlSetting('http://127.0.0.1:4010/slack/api'),
  timeoutMs: timeoutSetting(10_000),
  /**
   * Internal networks incoming-webhook URLs (`to.webhookUrl`, chosen by API callers) may still reach: comma-separated
   * CIDRs or addresses. By default loopback, link-local (cloud metadata), private, unique-local, multicast and
   * unspecified addresses are refused after DNS resolution. `npm start` and the tests allow loopback for the dev sinks.
   */
  allowedNetworks: allowedNetworksSetting(),
});

/** Recipient type of the slack channel. */
export type SlackRecipient = z.infer<typeof slackRecipientSchema>;
/** Content type of the slack channel. */
export type SlackContent = z.infer<typeof slackContentSchema>;
/** Parsed settings of the slack channel. */
export type SlackConfig = z.infer<typeof slackConfigSchema>;

/** Slack settings still at development values: the dev sink's Web API and its token. */
export function slackDevelopmentSettings(config: SlackConfig): DevelopmentSetting[] {
  const out: DevelopmentSetting[] = [];
  if (config.botToken === 'xoxb-dev-token')
    out.push({
      key: 'botToken',
      problem: "is the dev sink's token (xoxb-dev-token); set your Slack app's bot token (xoxb-…)",
    });
  if (isDevSinkUrl(config.apiUrl))
    out.push({
      key: 'apiUrl',
      problem: `points at the development sink (${config.apiUrl}); set https://slack.com/api`,
    });
  return out;
}
