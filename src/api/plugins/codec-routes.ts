import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DecryptionError } from '../../crypto/keyring.js';
import { ApiError } from '../errors.js';
import { requireScope } from './auth.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** One payload in protobuf JSON form, as Temporal's codec-server protocol sends it (bytes as base64). */
const jsonPayload = z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() });
const payloadsBody = z.object({ payloads: z.array(jsonPayload).max(10_000) });
type JsonPayload = z.infer<typeof jsonPayload>;

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/** Options of {@link codecRoutesPlugin}. */
export interface CodecRouteOptions {
  codec: PayloadCodec;
  /** The one browser origin allowed to call the endpoint (the Temporal Web UI's, from TEMPORAL_UI_URL). */
  allowedOrigin: string;
  /**
   * Development only: requests from `allowedOrigin` arriving over loopback need no key (the embedded Web UI cannot
   * send one). Everything else still needs the admin scope.
   */
  openToUiOnLoopback?: boolean;
}

/** Whether a host name or address is the loopback interface. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host.replace(/^::ffff:/, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/**
 * Temporal codec server on the gateway: `POST /codec/encode` and `POST /codec/decode` take and return
 * `{ payloads: [...] }` in protobuf JSON, so the Temporal Web UI and `temporal --codec-endpoint` can show decrypted
 * payloads. Both need an API key with the `admin` scope. CORS allows only `allowedOrigin`; preflights are public
 * (browsers send them without credentials) and grant nothing by themselves.
 */
export const codecRoutesPlugin = fp<CodecRouteOptions>(
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  async (app: FastifyInstance, options) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const cors = (origin: string | undefined): Record<string, string> =>
      origin === options.allowedOrigin
        ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
        : { vary: 'Origin' };

    app.options('/codec/:operation', { schema: { hide: true } }, (request, reply) => {
      const headers = cors(request.headers.origin);
      if (headers['access-control-allow-origin'] === undefined) return reply.code(403).headers(headers).send();
      return reply
        .code(204)
        .headers({
          ...headers,
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, x-namespace',
          'access-control-max-age': '600',
        })
        .send();
    });
    // CORS headers also on errors (401/403/429), so the browser shows the real reason instead of a CORS failure.
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/codec/') && request.method === 'POST')
        void reply.headers(cors(request.headers.origin));
    });

    for (const operation of ['encode', 'decode'] as const) {
      r.post(
        `/codec/${operation}`,
        {
          config: options.openToUiOnLoopback === true ? {} : { scope: 'admin' },
          onRequest: (request, _reply, done) => {
            try {
              const fromUi =
                request.headers.origin === options.allowedOrigin && isLoopbackHost(request.socket.remoteAddress);
              if (options.openToUiOnLoopback === true && !fromUi) requireScope(request, 'admin');
              done();
            } catch (err) {
              done(err as Error);
            }
          },
          schema: {
            tags: ['codec'],
            summary:
              operation === 'decode'
                ? 'Decrypt Temporal payloads (codec server)'
                : 'Encrypt Temporal payloads (codec server)',
            description:
              'Temporal codec-server protocol: `{ payloads: [{ metadata, data }] }` with base64 bytes. Needs the admin scope.',
            body: payloadsBody,
            response: { 200: payloadsBody },
          },
        },
        async (request) => {
          const payloads = request.body.payloads.map(fromJson);
          try {
            const out =
              operation === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
            return { payloads: out.map(toJson) };
          } catch (err) {
            if (err instanceof DecryptionError) throw new ApiError(422, 'UNDECRYPTABLE', err.message);
            throw err;
          }
        },
      );
    }
  },
  { name: 'notify-codec-routes', fastify: '5.x', dependencies: ['notify-auth'] },
);
