import { request as httpRequest } from 'node:http';
import type { Agent as HttpAgent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Agent as HttpsAgent } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Deadline } from './deadline.js';
import { DeliveryError, errorForHttpStatus, TransientDeliveryError } from './errors.js';
import type { SendContext } from './types.js';

/** A provider's HTTP answer, body already read (under the same deadline as the request). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

/**
 * Headers every HTTP channel sends so the provider (or receiver) can de-duplicate retries and correlate logs:
 * `Idempotency-Key` (stable across retries of one delivery) and `X-Notification-Id`.
 */
export function idempotencyHeaders(ctx: SendContext): Record<string, string> {
  return { 'Idempotency-Key': ctx.idempotencyKey, 'X-Notification-Id': ctx.notificationId };
}

/**
 * POSTs under `deadline` with Node's global fetch and classifies the outcome the way every HTTP channel must:
 * 2xx → the answer; 408/429/5xx → TransientDeliveryError (Retry-After honoured); other statuses → PermanentDeliveryError;
 * network errors, timeouts and aborts → TransientDeliveryError. Redirects are not followed (a redirected POST is a
 * configuration error, reported as permanent).
 *
 * With `options.lookup` the request goes through node:http(s) with that DNS lookup instead of fetch, so the caller
 * decides which resolved addresses may be connected to (the webhook channel's SSRF guard); a DeliveryError the lookup
 * raises is passed on as it is. `agents` keeps the caller's pooled connections apart from everyone else's, so a socket
 * checked under one policy is never reused under another.
 */
export async function postForAnswer(
  url: string,
  init: { headers: Record<string, string>; body: string },
  deadline: Deadline,
  what: string,
  options: { lookup?: LookupFunction; agents?: { http: HttpAgent; https: HttpsAgent } } = {},
): Promise<HttpAnswer> {
  try {
    const response =
      options.lookup === undefined
        ? await fetch(url, {
            method: 'POST',
            headers: init.headers,
            body: init.body,
            redirect: 'manual',
            signal: deadline.signal,
          }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }))
        : await postWithLookup(url, init, deadline.signal, options.lookup, options.agents);
    const { text } = response;
    const answer: HttpAnswer = { status: response.status, headers: response.headers, text, json: parseJson(text) };
    if (response.status >= 200 && response.status < 300) return answer;
    throw errorForHttpStatus(
      response.status,
      `${what} answered HTTP ${response.status}: ${describeBody(answer)}`,
      response.headers.get('retry-after'),
    );
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    if (deadline.signal.aborted) throw deadline.error(err);
    throw new TransientDeliveryError(`${what} failed: ${networkMessage(err)}`, { cause: err });
  }
}

/**
 * A `fetch` for SDKs that take one (the Slack SDKs' `fetch` option) that POSTs through node:http(s) with `lookup`, so
 * the caller's SSRF guard decides which resolved addresses may be connected to. Only POST with a string body (what the
 * SDKs send); redirects are never followed (a 3xx comes back as the response), whatever `init.redirect` says. An error
 * the lookup raises (a PermanentDeliveryError) is what the returned promise rejects with.
 */
export function fetchWithLookup(lookup: LookupFunction, agents?: { http: HttpAgent; https: HttpsAgent }) {
  return async (
    url: string | URL,
    init?: { method?: string; headers?: Record<string, string>; body?: unknown; signal?: AbortSignal },
  ): Promise<Response> => {
    if ((init?.method ?? 'GET').toUpperCase() !== 'POST' || typeof init?.body !== 'string') {
      throw new TypeError('fetchWithLookup only sends POST requests with a string body');
    }
    const answer = await postWithLookup(
      String(url),
      { headers: init.headers ?? {}, body: init.body },
      init.signal,
      lookup,
      agents,
    );
    const nullBody = [204, 205, 304].includes(answer.status);
    return new Response(nullBody ? null : answer.text, {
      status: answer.status,
      statusText: answer.statusText,
      headers: answer.headers,
    });
  };
}

/** POST through node:http(s) with a custom DNS lookup; resolves with the status, headers and body text (no redirects). */
function postWithLookup(
  url: string,
  init: { headers: Record<string, string>; body: string },
  signal: AbortSignal | undefined,
  lookup: LookupFunction,
  agents?: { http: HttpAgent; https: HttpsAgent },
): Promise<Omit<HttpAnswer, 'json'> & { statusText: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const agent = agents === undefined ? undefined : secure ? agents.https : agents.http;
    const request = send(
      target,
      {
        method: 'POST',
        headers: { ...init.headers, 'Content-Length': String(Buffer.byteLength(init.body)) },
        lookup,
        ...(signal !== undefined ? { signal } : {}),
        ...(agent !== undefined ? { agent } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
          }
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
}

/** Best-effort JSON parse: undefined for non-JSON bodies. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short, single-line description of an error body for messages (never the whole body: it may be large). */
export function describeBody(answer: Pick<HttpAnswer, 'text' | 'json'>): string {
  const json = answer.json;
  if (json !== null && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    const message = o.message ?? o.error ?? o.error_description ?? o.detail;
    if (typeof message === 'string')
      return truncate(
        typeof o.code === 'number' || typeof o.code === 'string' ? `${message} (code ${String(o.code)})` : message,
      );
  }
  return truncate(answer.text.replace(/\s+/g, ' ').trim() || '(empty body)');
}

/** Message of a fetch failure, including the low-level cause (`ECONNREFUSED …`) that undici hides in `cause`. */
export function networkMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

function truncate(s: string, max = 300): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
