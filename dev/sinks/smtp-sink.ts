import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { FaultRule, SinkProvider } from './faults.js';
import type { SinkStore } from './store.js';

/** A running SMTP sink. */
export interface SmtpSink {
  port: number;
  close(): Promise<void>;
}

/**
 * SMTP reply for an injected fault (HTTP-flavoured kinds mapped to their SMTP meaning). A 550 quotes the rejected
 * recipient, as real servers do (`550 5.1.1 <ada@example.com>: Recipient address rejected`), so tests see provider
 * texts that carry personal data.
 */
function smtpReplyFor(rule: FaultRule, recipients: readonly string[]): { code: number; text: string } | undefined {
  switch (rule.fault) {
    case '5xx':
      return { code: 421, text: 'Service not available (injected fault)' };
    case 'smtp451':
      return { code: 451, text: 'Requested action aborted: local error in processing (injected fault)' };
    case '429':
      return { code: 452, text: 'Too many messages, try again later (injected fault)' };
    case '4xx':
    case 'smtp550':
      return {
        code: 550,
        text: `5.1.1 <${recipients.join('>, <')}>: Recipient address rejected: mailbox unavailable (injected fault)`,
      };
    default:
      return undefined;
  }
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/** `<key@domain>` → `key`. */
function idempotencyKeyOf(messageId: string | undefined): string {
  if (messageId === undefined) return '';
  const bare = messageId.trim().replace(/^<|>$/g, '');
  const at = bare.lastIndexOf('@');
  return at > 0 ? bare.slice(0, at) : bare;
}

/**
 * Starts an SMTP server that accepts every message (AUTH optional and accepted when given; no STARTTLS), parses it
 * with mailparser, applies fault rules and records it. Replies `250 OK: queued as <id>`; the id is the provider id.
 */
export async function startSmtpSink(options: {
  host: string;
  port: number;
  store: SinkStore;
  logger?: Logger;
  /** Tag of this SMTP sink (`smtp`, or `smtp-2` for the second relay). */
  provider?: Extract<SinkProvider, 'smtp' | 'smtp-2'>;
}): Promise<SmtpSink> {
  const { store, logger } = options;
  const provider = options.provider ?? 'smtp';

  const onData = (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (err) => callback(err));
    stream.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks);
        const mail = await simpleParser(raw);
        const idempotencyKey = idempotencyKeyOf(mail.messageId);
        const notificationHeader = mail.headers.get('x-notification-id');
        const notificationId = typeof notificationHeader === 'string' ? notificationHeader : '';
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        const attemptNo = store.nextAttempt('email', idempotencyKey);
        const fault = store.faultFor({ channel: 'email', provider, recipients, attemptNo });
        if (fault?.fault === 'timeout') {
          logger?.info({ idempotencyKey, attemptNo }, 'smtp sink: injected timeout (no reply)');
          return; // never answer; the client gives up, close() tears the connection down
        }
        const reply = fault !== undefined ? smtpReplyFor(fault, recipients) : undefined;
        if (reply !== undefined) {
          logger?.info({ idempotencyKey, attemptNo, code: reply.code }, 'smtp sink: injected fault');
          callback(smtpError(reply.code, reply.text));
          return;
        }
        const queueId = randomBytes(6).toString('hex').toUpperCase();
        store.record({
          channel: 'email',
          provider,
          notificationId,
          idempotencyKey,
          providerMessageId: queueId,
          to: recipients.length === 1 ? (recipients[0] ?? '') : recipients,
          summary: mail.subject ?? '',
          attemptNo,
          details: {
            messageId: mail.messageId,
            from: session.envelope.mailFrom === false ? undefined : session.envelope.mailFrom.address,
            headerFrom: mail.from?.text,
            replyTo: mail.replyTo?.text,
            subject: mail.subject,
            text: mail.text,
            html: typeof mail.html === 'string' ? mail.html : undefined,
            headers: Object.fromEntries(
              [...mail.headers.entries()].map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
            ),
            user: session.user,
            size: raw.length,
          },
        });
        if (fault?.fault === 'accept-then-drop') {
          logger?.info({ idempotencyKey, attemptNo }, 'smtp sink: accepted, dropping the connection without a reply');
          for (const connection of server.connections) {
            if (connection.id === session.id) connection._socket.destroy();
          }
          return;
        }
        callback(null, `OK: queued as ${queueId}`);
      })().catch((err: unknown) => {
        logger?.error({ err }, 'smtp sink: could not process a message');
        callback(
          smtpError(451, `sink could not parse the message: ${err instanceof Error ? err.message : String(err)}`),
        );
      });
    });
  };

  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    banner: `notify dev SMTP sink (${provider})`,
    closeTimeout: 500,
    size: 25 * 1024 * 1024,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData,
  });
  server.on('error', (err) => logger?.warn({ err }, 'smtp sink error'));

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
