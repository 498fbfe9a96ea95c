import { z } from 'zod';
import {
  boolSetting,
  circuitSettings,
  intSetting,
  isDevSinkHost,
  listSetting,
  timeoutSetting,
} from '../config-fields.js';
import type { DevelopmentSetting } from '../types.js';

/** Most recipients one email delivery may address. */
export const MAX_EMAIL_RECIPIENTS = 50;

const NO_LINE_BREAKS = /^[^\r\n]*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,76}$/;
/** Headers the sender sets itself; letting content override them would break idempotency or addressing. */
const RESERVED_HEADERS = new Set([
  'message-id',
  'x-notification-id',
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'reply-to',
  'date',
  'sender',
  'return-path',
  'content-type',
  'content-transfer-encoding',
  'mime-version',
]);

const address = z.email({ error: 'must be an email address like ada@example.com' });

/** zod's email pattern without its anchors, so the mailbox pattern below accepts exactly what `address` accepts. */
const EMAIL_BODY = z.regexes.email.source.replace(/^\^/, '').replace(/\$$/, '');
/** `ada@example.com` or `Display Name <ada@example.com>`; the display name has no line breaks, `<`, `>` or `"`. */
const MAILBOX = new RegExp(`^(?:[^\\r\\n<>"]*<${EMAIL_BODY}>|${EMAIL_BODY})$`);

/**
 * A mailbox: `ada@example.com` or `Ada Lovelace <ada@example.com>`. The display name may not contain line breaks,
 * `<`, `>` or `"` (header injection). A plain `pattern`, so the OpenAPI document (JSON Schema) states the rule exactly.
 */
export const mailboxSchema = z
  .string()
  .max(320)
  .regex(MAILBOX, 'must be an email address like ada@example.com or "Ada <ada@example.com>" (no line breaks)');

/** Recipient(s): one address or a list of 1–50 addresses. */
export const emailRecipientSchema = z
  .union([
    address,
    z
      .array(address)
      .min(1, 'at least one address')
      .max(MAX_EMAIL_RECIPIENTS, `at most ${MAX_EMAIL_RECIPIENTS} addresses per delivery`),
  ])
  .describe('Email address, or a list of up to 50 addresses.');

/** Email content. Text is always required (the fallback for clients that do not render HTML). */
export const emailContentSchema = z
  .strictObject({
    subject: z
      .string()
      .min(1, 'subject is required')
      .max(998)
      .regex(NO_LINE_BREAKS, 'subject may not contain line breaks'),
    text: z.string().min(1, 'text is required (plain-text body; add html for a rich version)').max(1_000_000),
    html: z.string().max(2_000_000).optional(),
    from: mailboxSchema.optional().describe('Overrides EMAIL_FROM.'),
    replyTo: mailboxSchema.optional().describe('Overrides EMAIL_REPLY_TO.'),
    headers: z
      .record(
        z
          .string()
          .regex(HEADER_NAME, 'header names are letters, digits and -')
          .refine(
            (n) => !RESERVED_HEADERS.has(n.toLowerCase()),
            'this header is set by notify and cannot be overridden',
          ),
        z.string().max(998).regex(NO_LINE_BREAKS, 'header values may not contain line breaks'),
      )
      .refine((h) => Object.keys(h).length <= 20, 'at most 20 custom headers')
      .optional()
      .describe('Extra headers such as List-Unsubscribe.'),
  })
  .describe('Email content.');

/** One SMTP relay of the email channel (from EMAIL_HOST… or one entry of EMAIL_SMTP_URLS). */
export interface SmtpRelay {
  host: string;
  port: number;
  /** Implicit TLS (`smtps://`). */
  secure: boolean;
  user?: string;
  pass?: string;
}

/**
 * Parses one `EMAIL_SMTP_URLS` entry: `smtp://[user:pass@]host[:port]` (port 587 by default; STARTTLS when offered,
 * required with EMAIL_REQUIRE_TLS) or `smtps://…` (implicit TLS, port 465 by default). User and password are
 * URL-encoded. Messages never quote the entry (it may hold a password).
 */
export function parseSmtpUrl(entry: string, position: number): SmtpRelay {
  const what = `entry ${position} of the list`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new Error(`${what} is not a URL; expected smtp://[user:pass@]host[:port] or smtps://…`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new Error(`${what} has the scheme ${url.protocol.slice(0, 10)}; expected smtp:// or smtps://`);
  if (url.hostname === '') throw new Error(`${what} has no host`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '')
    throw new Error(`${what} has a path, query or fragment; expected smtp://[user:pass@]host[:port]`);
  const secure = url.protocol === 'smtps:';
  const relay: SmtpRelay = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
  };
  if (url.username !== '') relay.user = decodeURIComponent(url.username);
  if (url.password !== '') relay.pass = decodeURIComponent(url.password);
  return relay;
}

/** Name of a relay in status, metrics and logs: `host:port` (never the credentials). */
export function relayName(relay: SmtpRelay): string {
  return `${relay.host.includes(':') ? `[${relay.host}]` : relay.host}:${relay.port}`;
}

/**
 * Ordered SMTP relays (`EMAIL_SMTP_URLS`, comma-separated): the email channel's providers, tried in this order
 * (see failover.ts). Empty (the default): the one relay given by EMAIL_HOST, EMAIL_PORT, EMAIL_SECURE, EMAIL_USER
 * and EMAIL_PASS.
 */
const smtpUrlsSetting = listSetting()
  .transform((entries, ctx) => {
    const relays: SmtpRelay[] = [];
    entries.forEach((entry, i) => {
      try {
        relays.push(parseSmtpUrl(entry, i + 1));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    });
    const names = relays.map(relayName);
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated !== undefined) ctx.addIssue({ code: 'custom', message: `relay ${repeated} is listed twice` });
    return relays;
  })
  .default([]);

/** SMTP settings, env `EMAIL_<KEY>`. Defaults point at the dev sink (127.0.0.1:2525, no TLS, no auth). */
export const emailConfigSchema = z.object({
  /** Ordered relays, replacing host/port/secure/user/pass when set (see `smtpUrlsSetting`). */
  smtpUrls: smtpUrlsSetting,
  host: z.string().min(1).default('127.0.0.1'),
  port: intSetting(2525, 1, 65535),
  /** Implicit TLS (usually port 465). */
  secure: boolSetting(false),
  /** Require STARTTLS: fail instead of sending in clear text when the server does not offer it. */
  requireTls: boolSetting(false),
  /** Set false only for test servers with self-signed certificates. */
  tlsRejectUnauthorized: boolSetting(true),
  user: z.string().min(1).optional(),
  pass: z.string().min(1).optional(),
  pool: boolSetting(true),
  maxConnections: intSetting(5, 1, 100),
  from: mailboxSchema.default('Notify <notify@notify.local>'),
  replyTo: mailboxSchema.optional(),
  /** Domain part of generated Message-IDs: `<idempotencyKey@domain>`. */
  messageIdDomain: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'a domain name like mail.example.com')
    .default('notify.local'),
  timeoutMs: timeoutSetting(15_000),
  ...circuitSettings(),
});

/** Recipient type of the email channel. */
export type EmailRecipient = z.infer<typeof emailRecipientSchema>;
/** Content type of the email channel. */
export type EmailContent = z.infer<typeof emailContentSchema>;
/** Parsed settings of the email channel. */
export type EmailConfig = z.infer<typeof emailConfigSchema>;

/** The relays the email channel sends through, in failover order: EMAIL_SMTP_URLS, else EMAIL_HOST/EMAIL_PORT…. */
export function smtpRelays(config: EmailConfig): SmtpRelay[] {
  if (config.smtpUrls.length > 0) return config.smtpUrls;
  const relay: SmtpRelay = { host: config.host, port: config.port, secure: config.secure };
  if (config.user !== undefined) relay.user = config.user;
  if (config.pass !== undefined) relay.pass = config.pass;
  return [relay];
}

/** Ports of the dev SMTP sinks (`SINKS_SMTP_PORT`, `SINKS_SMTP2_PORT` defaults). */
const DEV_SMTP_PORTS = new Set([2525, 2526]);

/** Email settings still at development values: the dev SMTP sink and the undeliverable `notify.local` domain. */
export function emailDevelopmentSettings(config: EmailConfig): DevelopmentSetting[] {
  const out: DevelopmentSetting[] = [];
  const devRelays = config.smtpUrls.filter((r) => isDevSinkHost(r.host) && DEV_SMTP_PORTS.has(r.port));
  if (devRelays.length > 0)
    out.push({
      key: 'smtpUrls',
      problem: `lists the development SMTP sink (${devRelays.map(relayName).join(', ')}); list your SMTP relays`,
    });
  if (config.smtpUrls.length === 0 && isDevSinkHost(config.host) && config.port === 2525) {
    out.push({
      key: 'host',
      problem: `with EMAIL_PORT=${config.port} is the development SMTP sink (${config.host}:${config.port}); set your SMTP server (EMAIL_HOST, EMAIL_PORT, EMAIL_USER, EMAIL_PASS)`,
    });
  }
  if (/@notify\.local>?$/i.test(config.from.trim()))
    out.push({
      key: 'from',
      problem: `is the development sender (${config.from}); set an address of your sending domain, e.g. "Acme <notify@acme.example>"`,
    });
  if (config.messageIdDomain === 'notify.local')
    out.push({
      key: 'messageIdDomain',
      problem: 'is the development domain notify.local; set your sending domain, e.g. mail.acme.example',
    });
  return out;
}
