import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { faultRulesSchema } from './faults.js';
import type { FaultRule, SinkChannel, SinkProvider } from './faults.js';
import { renderMessagesPage } from './page.js';
import { verifyWebhookSignature } from './signature.js';
import type { SinkStore } from './store.js';

/** Largest request body the HTTP sink reads. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;
const E164 = /^\+[1-9]\d{1,14}$/;

/** Options of the HTTP sink. Credentials left undefined accept any non-empty value. */
export interface HttpSinkOptions {
  host: string;
  port: number;
  store: SinkStore;
  webhookSecret: string;
  twilioAuthToken?: string;
  /** When set, the Vonage endpoint accepts only this API secret (else any non-empty key and secret). */
  vonageApiSecret?: string;
  slackBotToken?: string;
  logger?: Logger;
}

/** A running HTTP sink. */
export interface HttpSink {
  url: string;
  close(): Promise<void>;
}

type Protocol = 'twilio' | 'vonage' | 'slack-api' | 'slack-webhook' | 'webhook';

const PROVIDER_OF: Record<Protocol, SinkProvider> = {
  twilio: 'twilio',
  vonage: 'vonage',
  'slack-api': 'slack',
  'slack-webhook': 'slack',
  webhook: 'webhook',
};

/** Vonage Messages API problem (RFC 7807) for a status, as the real API words them. */
function vonageProblem(status: number, detail: string, invalidParameters?: Array<{ name: string; reason: string }>) {
  const titles: Record<number, string> = {
    401: 'Unauthorized',
    402: 'Low balance',
    422: 'Invalid params',
    429: 'Rate Limit Hit',
    500: 'Internal Error',
    503: 'Service Unavailable',
  };
  return {
    type: `https://developer.vonage.com/api-errors/messages#${status}`,
    title: titles[status] ?? (status >= 500 ? 'Internal Error' : 'Bad Request'),
    detail,
    instance: randomBytes(16).toString('hex'),
    ...(invalidParameters !== undefined ? { invalid_parameters: invalidParameters } : {}),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the HTTP side of the sinks: a Twilio-compatible Messages endpoint, Slack's chat.postMessage and incoming
 * webhooks, a signature-verifying generic webhook receiver, plus the inspection API (`GET /messages`, `GET /`,
 * `DELETE /messages`) and fault control (`PUT|GET|DELETE /faults`).
 */
export async function startHttpSink(options: HttpSinkOptions): Promise<HttpSink> {
  const { store, logger } = options;
  let slackTs = 0;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      ...headers,
    });
    res.end(text);
  };

  /** Answers an injected fault in the protocol's own shape. Returns false for `accept-then-drop` (handled later). */
  const answerFault = (res: ServerResponse, protocol: Protocol, rule: FaultRule): boolean => {
    if (rule.fault === 'accept-then-drop') return false;
    if (rule.fault === 'timeout') return true; // hold the request open; the client times out, close() ends it
    const transient = rule.fault === '5xx' || rule.fault === 'smtp451';
    const status = rule.fault === '429' ? 429 : transient ? (rule.status ?? 503) : (rule.status ?? 400);
    const headers: Record<string, string> =
      rule.fault === '429' ? { 'retry-after': String(rule.retryAfterSeconds ?? 1) } : {};
    const message = `injected fault: ${rule.fault}`;
    switch (protocol) {
      case 'twilio':
        send(
          res,
          status,
          {
            code: status === 429 ? 20429 : transient ? 20500 : 21211,
            message,
            more_info: 'https://www.twilio.com/docs/errors',
            status,
          },
          headers,
        );
        break;
      case 'vonage':
        send(
          res,
          status,
          vonageProblem(
            status,
            message,
            status === 400 || status === 422 ? [{ name: 'to', reason: 'Invalid number (injected fault)' }] : undefined,
          ),
          headers,
        );
        break;
      case 'slack-api':
        if (status === 429 || status >= 500)
          send(res, status, { ok: false, error: status === 429 ? 'ratelimited' : 'service_unavailable' }, headers);
        else send(res, 200, { ok: false, error: rule.slackError ?? 'channel_not_found' });
        break;
      case 'slack-webhook':
        send(
          res,
          status,
          status >= 500 ? 'service_unavailable' : status === 429 ? 'rate_limited' : 'invalid_payload',
          headers,
        );
        break;
      case 'webhook':
        send(res, status, { error: message }, headers);
        break;
    }
    return true;
  };

  /** Counts the attempt, applies faults, records the message and answers; shared by every provider endpoint. */
  const deliver = (
    res: ServerResponse,
    protocol: Protocol,
    channel: SinkChannel,
    message: {
      notificationId: string;
      idempotencyKey: string;
      to: string;
      summary: string;
      details: Record<string, unknown>;
    },
    providerMessageId: string,
    answer: () => void,
  ) => {
    const provider = PROVIDER_OF[protocol];
    const attemptNo = store.nextAttempt(channel, message.idempotencyKey);
    const fault = store.faultFor({ channel, provider, recipients: [message.to], attemptNo });
    if (fault !== undefined) {
      logger?.info(
        { channel, provider, idempotencyKey: message.idempotencyKey, attemptNo, fault: fault.fault },
        'http sink: injected fault',
      );
      if (answerFault(res, protocol, fault)) return;
    }
    store.record({ channel, provider, providerMessageId, attemptNo, ...message });
    if (fault?.fault === 'accept-then-drop') {
      res.socket?.destroy();
      return;
    }
    answer();
  };

  const header = (req: IncomingMessage, name: string): string => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v[0] : v) ?? '';
  };

  const handleTwilio = (req: IncomingMessage, res: ServerResponse, accountSid: string, body: string) => {
    const twilioError = (status: number, code: number, message: string) =>
      send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
    const auth = /^Basic (.+)$/.exec(header(req, 'authorization'));
    const [user, pass] = auth?.[1] !== undefined ? Buffer.from(auth[1], 'base64').toString('utf8').split(':', 2) : [];
    if (
      user !== accountSid ||
      pass === undefined ||
      pass === '' ||
      (options.twilioAuthToken !== undefined && pass !== options.twilioAuthToken)
    ) {
      twilioError(401, 20003, 'Authenticate');
      return;
    }
    const form = new URLSearchParams(body);
    const to = form.get('To') ?? '';
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    const text = form.get('Body') ?? '';
    if (!E164.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if ((from === null || from === '') && (messagingServiceSid === null || messagingServiceSid === '')) {
      return twilioError(400, 21603, "A 'From' phone number or a 'MessagingServiceSid' is required.");
    }
    if (text === '') return twilioError(400, 21602, 'Message body is required.');
    if (text.length > 1600)
      return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date().toUTCString();
    deliver(
      res,
      'twilio',
      'sms',
      {
        notificationId: header(req, 'x-notification-id'),
        idempotencyKey: header(req, 'idempotency-key'),
        to,
        summary: text,
        details: { from, messagingServiceSid, body: text, accountSid },
      },
      sid,
      () =>
        send(res, 201, {
          account_sid: accountSid,
          api_version: '2010-04-01',
          body: text,
          date_created: now,
          date_sent: null,
          date_updated: now,
          direction: 'outbound-api',
          error_code: null,
          error_message: null,
          from,
          messaging_service_sid: messagingServiceSid,
          num_media: '0',
          num_segments: String(Math.max(1, Math.ceil(text.length / 153))),
          price: null,
          price_unit: 'USD',
          sid,
          status: 'queued',
          subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
          to,
          uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
        }),
    );
  };

  /**
   * Vonage Messages API (`POST /v1/messages`), as `@vonage/server-sdk` calls it: basic auth with API key and secret,
   * JSON `{ message_type, channel, to, from, text, client_ref }`, `202 { message_uuid }`, RFC 7807 problems on errors.
   * `client_ref` carries notify's idempotency key (`<notificationId>.sms[.n]`), from which the notification id is read.
   */
  const handleVonage = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const auth = /^Basic (.+)$/.exec(header(req, 'authorization'));
    const [key, secret] = auth?.[1] !== undefined ? Buffer.from(auth[1], 'base64').toString('utf8').split(':', 2) : [];
    if (
      key === undefined ||
      key === '' ||
      secret === undefined ||
      secret === '' ||
      (options.vonageApiSecret !== undefined && secret !== options.vonageApiSecret)
    ) {
      return send(res, 401, vonageProblem(401, 'You did not provide correct credentials.'));
    }
    const payload = parseJsonBody(body) as Record<string, unknown> | undefined;
    if (payload === undefined) return send(res, 422, vonageProblem(422, 'The request body is not JSON.'));
    const field = (name: string) => (typeof payload[name] === 'string' ? payload[name] : '');
    const invalid: Array<{ name: string; reason: string }> = [];
    if (field('channel') !== 'sms') invalid.push({ name: 'channel', reason: 'this sink speaks only sms' });
    if (field('message_type') !== 'text') invalid.push({ name: 'message_type', reason: 'must be text' });
    const to = field('to');
    if (!/^[1-9]\d{1,14}$/.test(to)) invalid.push({ name: 'to', reason: 'E.164 digits without the leading +' });
    if (field('from') === '') invalid.push({ name: 'from', reason: 'is required' });
    const text = field('text');
    if (text === '' || text.length > 1600) invalid.push({ name: 'text', reason: 'is required, up to 1600 characters' });
    if (invalid.length > 0)
      return send(res, 422, vonageProblem(422, 'The value of one or more parameters is invalid.', invalid));
    const clientRef = field('client_ref');
    const uuid = randomUUID();
    deliver(
      res,
      'vonage',
      'sms',
      {
        notificationId: /^(.+)\.sms(\.\d+)?$/.exec(clientRef)?.[1] ?? '',
        idempotencyKey: clientRef,
        to: `+${to}`,
        summary: text,
        details: { from: field('from'), body: text, clientRef, apiKey: key, via: 'vonage-messages' },
      },
      uuid,
      () => send(res, 202, { message_uuid: uuid }),
    );
  };

  const handleSlackApi = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const fields = parseFields(req, body);
    const bearer =
      /^Bearer (.+)$/.exec(header(req, 'authorization'))?.[1] ??
      (typeof fields.token === 'string' ? fields.token : undefined);
    if (bearer === undefined || bearer === '') return send(res, 200, { ok: false, error: 'not_authed' });
    if (options.slackBotToken !== undefined && bearer !== options.slackBotToken)
      return send(res, 200, { ok: false, error: 'invalid_auth' });
    const channel = typeof fields.channel === 'string' ? fields.channel : '';
    if (channel === '') return send(res, 200, { ok: false, error: 'channel_not_found' });
    const text = typeof fields.text === 'string' ? fields.text : '';
    const blocks = jsonField(fields.blocks);
    if (text === '' && blocks === undefined) return send(res, 200, { ok: false, error: 'no_text' });
    const metadata = jsonField(fields.metadata) as
      { event_payload?: { notification_id?: string; idempotency_key?: string } } | undefined;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++slackTs).padStart(6, '0')}`;
    const channelId = channel.startsWith('#') ? `C${randomBytes(5).toString('hex').toUpperCase()}` : channel;
    deliver(
      res,
      'slack-api',
      'slack',
      {
        notificationId: header(req, 'x-notification-id') || (metadata?.event_payload?.notification_id ?? ''),
        idempotencyKey: header(req, 'idempotency-key') || (metadata?.event_payload?.idempotency_key ?? ''),
        to: channel,
        summary: text,
        details: { channel, blocks, metadata, via: 'chat.postMessage' },
      },
      `${channelId}:${ts}`,
      () => send(res, 200, { ok: true, channel: channelId, ts, message: { type: 'message', text, ts, metadata } }),
    );
  };

  const handleSlackWebhook = (req: IncomingMessage, res: ServerResponse, path: string, body: string) => {
    const payload = parseJsonBody(body) as
      | {
          text?: unknown;
          blocks?: unknown;
          metadata?: { event_payload?: { notification_id?: string; idempotency_key?: string } };
        }
      | undefined;
    if (payload === undefined) return send(res, 400, 'invalid_payload');
    const text = typeof payload.text === 'string' ? payload.text : '';
    if (text === '' && payload.blocks === undefined) return send(res, 400, 'no_text');
    const idempotencyKey = header(req, 'idempotency-key') || (payload.metadata?.event_payload?.idempotency_key ?? '');
    deliver(
      res,
      'slack-webhook',
      'slack',
      {
        notificationId: header(req, 'x-notification-id') || (payload.metadata?.event_payload?.notification_id ?? ''),
        idempotencyKey,
        to: path,
        summary: text,
        details: { blocks: payload.blocks, metadata: payload.metadata, via: 'incoming-webhook' },
      },
      idempotencyKey || `hook-${randomBytes(8).toString('hex')}`,
      () => send(res, 200, 'ok'),
    );
  };

  const handleWebhook = (req: IncomingMessage, res: ServerResponse, path: string, body: string) => {
    const failure = verifyWebhookSignature(
      options.webhookSecret,
      {
        id: header(req, 'webhook-id') || undefined,
        timestamp: header(req, 'webhook-timestamp') || undefined,
        signature: header(req, 'webhook-signature') || undefined,
      },
      body,
    );
    if (failure !== undefined) return send(res, 401, { error: `invalid signature: ${failure}` });
    const payload = parseJsonBody(body) as { notificationId?: unknown; content?: unknown } | undefined;
    if (payload === undefined) return send(res, 400, { error: 'body must be JSON' });
    const id = `wh_${randomBytes(12).toString('hex')}`;
    deliver(
      res,
      'webhook',
      'webhook',
      {
        notificationId:
          header(req, 'x-notification-id') ||
          (typeof payload.notificationId === 'string' ? payload.notificationId : ''),
        idempotencyKey: header(req, 'idempotency-key') || header(req, 'webhook-id'),
        to: path,
        summary: JSON.stringify(payload.content ?? payload).slice(0, 200),
        details: { payload, webhookId: header(req, 'webhook-id'), webhookTimestamp: header(req, 'webhook-timestamp') },
      },
      id,
      () => send(res, 200, { id, received: true }),
    );
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sink.local');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'GET' && (path === '/healthz' || path === '/readyz')) return send(res, 200, { ok: true });
    if (method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderMessagesPage(store.received().reverse(), store.faults()));
      return;
    }
    if (path === '/messages') {
      if (method === 'GET') {
        const filter = {
          notificationId: url.searchParams.get('notificationId') ?? undefined,
          channel: url.searchParams.get('channel') ?? undefined,
          idempotencyKey: url.searchParams.get('idempotencyKey') ?? undefined,
          provider: url.searchParams.get('provider') ?? undefined,
        };
        return send(res, 200, store.received(filter));
      }
      if (method === 'DELETE') {
        store.reset();
        res.writeHead(204).end();
        return;
      }
    }
    if (path === '/faults') {
      if (method === 'GET') return send(res, 200, store.faults());
      if (method === 'DELETE') {
        store.setFaults([]);
        res.writeHead(204).end();
        return;
      }
      if (method === 'PUT') {
        const parsed = faultRulesSchema.safeParse(parseJsonBody(await readBody(req)));
        if (!parsed.success) {
          return send(res, 400, {
            error: 'invalid fault rules',
            issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
          });
        }
        store.setFaults(parsed.data);
        return send(res, 200, parsed.data);
      }
    }
    if (method !== 'POST') throw new HttpError(404, `no route for ${method} ${path}`);
    const twilio = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (twilio?.[1] !== undefined) return handleTwilio(req, res, decodeURIComponent(twilio[1]), await readBody(req));
    if (path === '/v1/messages') return handleVonage(req, res, await readBody(req));
    if (path === '/slack/api/chat.postMessage') return handleSlackApi(req, res, await readBody(req));
    if (path.startsWith('/slack/webhook/')) return handleSlackWebhook(req, res, path, await readBody(req));
    if (path.startsWith('/webhook/') || path === '/webhook') return handleWebhook(req, res, path, await readBody(req));
    throw new HttpError(404, `no route for POST ${path}`);
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) logger?.error({ err }, 'http sink: request failed');
      if (!res.headersSent) send(res, status, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Also ends requests held open by a `timeout` fault.
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** A form or JSON body as a flat record (Slack's Web API accepts both). */
function parseFields(req: IncomingMessage, body: string): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    const parsed = parseJsonBody(body);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  }
  return Object.fromEntries(new URLSearchParams(body));
}

/** Slack form fields carry nested values as JSON strings. */
function jsonField(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return parseJsonBody(value) ?? value;
}
