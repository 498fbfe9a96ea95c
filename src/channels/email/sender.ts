import nodemailer from 'nodemailer';
import type { ChannelDeps, ChannelSender, SendContext, SendResult } from '../types.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import type { DeliveryError } from '../errors.js';
import { raceDeadline, startDeadline } from '../deadline.js';
import { createFailoverSender } from '../failover.js';
import type { FailoverSender } from '../failover.js';
import { relayName, smtpRelays } from './schema.js';
import type { EmailConfig, EmailContent, EmailRecipient, SmtpRelay } from './schema.js';

/** Shape of the errors nodemailer rejects with (`code` is a string such as `EAUTH`, `responseCode` the SMTP reply). */
interface SmtpFailure {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * Builds the email channel's sender: one SMTP relay sender per relay (`smtpRelays`: EMAIL_SMTP_URLS, or EMAIL_HOST…),
 * tried in order with a circuit breaker each (see failover.ts). The provider reported in status is the relay's
 * `host:port`. Every relay gets the same Message-ID, so a copy sent by a second relay after a lost answer is
 * recognisable at the receiver.
 */
export function createEmailSender(
  config: EmailConfig,
  deps: ChannelDeps,
): FailoverSender<EmailRecipient, EmailContent> {
  return createFailoverSender(
    smtpRelays(config).map((relay) => ({ name: relayName(relay), sender: createSmtpRelaySender(relay, config, deps) })),
    {
      circuit: {
        failureThreshold: config.circuitFailureThreshold,
        windowMs: config.circuitWindowMs,
        cooldownMs: config.circuitCooldownMs,
      },
      logger: deps.logger,
    },
  );
}

/**
 * Builds the sender for one SMTP relay (nodemailer). One transport (pooled by default) is shared by every send of this
 * worker.
 *
 * Idempotency: the Message-ID is `<idempotencyKey@messageIdDomain>` and `X-Notification-Id` carries the notification
 * id, so a duplicate caused by a lost final reply is recognisable at the receiver. The returned provider id is the
 * server's queue id when its reply names one (`250 … queued as X`), else the Message-ID.
 */
export function createSmtpRelaySender(
  relay: SmtpRelay,
  config: EmailConfig,
  deps: ChannelDeps,
): ChannelSender<EmailRecipient, EmailContent> {
  const endpoint = `SMTP server ${relayName(relay)}`;
  const transport = nodemailer.createTransport({
    host: relay.host,
    port: relay.port,
    secure: relay.secure,
    requireTLS: config.requireTls,
    tls: { rejectUnauthorized: config.tlsRejectUnauthorized },
    auth: relay.user !== undefined ? { user: relay.user, pass: relay.pass ?? '' } : undefined,
    pool: config.pool,
    maxConnections: config.maxConnections,
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    async send({ to, content }, ctx: SendContext): Promise<SendResult> {
      const messageId = `<${ctx.idempotencyKey}@${config.messageIdDomain}>`;
      const deadline = startDeadline(config.timeoutMs, ctx.signal, `email via ${endpoint}`);
      try {
        const info = (await raceDeadline(
          deadline,
          transport.sendMail({
            from: content.from ?? config.from,
            to,
            replyTo: content.replyTo ?? config.replyTo,
            subject: content.subject,
            text: content.text,
            html: content.html,
            messageId,
            headers: { ...content.headers, 'X-Notification-Id': ctx.notificationId },
          }),
        )) as { messageId?: string; response?: string; rejected?: unknown[] };
        if (Array.isArray(info.rejected) && info.rejected.length > 0) {
          // Some recipients were accepted: retrying would duplicate to them, so this counts as sent.
          deps.logger.warn(
            { notificationId: ctx.notificationId, rejectedCount: info.rejected.length },
            'SMTP server rejected some recipients',
          );
        }
        const queued = /queued as ([^\s]+)/i.exec(info.response ?? '');
        return { providerMessageId: queued?.[1] ?? info.messageId ?? messageId };
      } catch (err) {
        if (err instanceof TransientDeliveryError || err instanceof PermanentDeliveryError) throw err;
        if (deadline.signal.aborted) throw deadline.error(err);
        throw smtpDeliveryError(err, endpoint);
      } finally {
        deadline.dispose();
      }
    },
    close(): Promise<void> {
      transport.close();
      return Promise.resolve();
    },
  };
}

/** SMTP replies about the client's authentication, not the message: 530 auth required, 534/535/538 auth refused. */
const AUTH_REPLIES = new Set([530, 534, 535, 538]);

/**
 * Classifies an SMTP failure: a 5xx reply or rejected credentials/configuration is permanent; a 4xx reply and any
 * connection, DNS or timeout problem is transient. Rejected credentials, an authentication demand and a failed TLS
 * negotiation are the relay's fault (`fault: 'provider'`: the next relay is tried); other 5xx replies are about the
 * recipient or the message (no failover).
 */
export function smtpDeliveryError(err: unknown, endpoint: string): DeliveryError {
  const f: SmtpFailure = typeof err === 'object' && err !== null ? err : { message: String(err) };
  const reply = f.response ?? f.message ?? 'unknown error';
  switch (f.code) {
    case 'EAUTH':
      if (typeof f.responseCode === 'number' && f.responseCode < 500) {
        return new TransientDeliveryError(`${endpoint} could not log in right now (${reply})`, {
          code: f.responseCode,
          cause: err,
        });
      }
      return new PermanentDeliveryError(
        `${endpoint} rejected the login (${reply}); check EMAIL_USER / EMAIL_PASS (or the credentials in EMAIL_SMTP_URLS)`,
        { cause: err, fault: 'provider' },
      );
    case 'ETLS':
      return new PermanentDeliveryError(
        `${endpoint}: TLS negotiation failed (${reply}); check EMAIL_SECURE / EMAIL_REQUIRE_TLS / EMAIL_TLS_REJECT_UNAUTHORIZED`,
        { code: f.responseCode, cause: err, fault: 'provider' },
      );
    default:
      break;
  }
  if (typeof f.responseCode === 'number') {
    const message = `${endpoint} replied ${f.responseCode}: ${reply}`;
    if (f.responseCode >= 500)
      return new PermanentDeliveryError(message, {
        code: f.responseCode,
        cause: err,
        fault: AUTH_REPLIES.has(f.responseCode) ? 'provider' : 'request',
      });
    if (f.responseCode >= 400) return new TransientDeliveryError(message, { code: f.responseCode, cause: err });
  }
  if (f.code === 'EENVELOPE' || f.code === 'EMESSAGE') {
    return new PermanentDeliveryError(`${endpoint}: message rejected (${reply})`, { cause: err });
  }
  return new TransientDeliveryError(`${endpoint}: ${f.code ?? 'error'} ${reply}`, { cause: err });
}
