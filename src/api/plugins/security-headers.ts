import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Helmet-style response headers on every answer: no MIME sniffing, no framing (clickjacking on /docs), no referrer
 * leaking ids, and no caching of API answers that may contain notification details. The Swagger UI's own
 * Content-Security-Policy comes from `@fastify/swagger-ui` (`staticCSP`).
 */
export const securityHeadersPlugin = fp(
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  async (app: FastifyInstance) => {
    // A callback hook, not an async one: no promise per response on the hot path.
    app.addHook('onSend', (request, reply, payload, done) => {
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('x-frame-options', 'DENY');
      void reply.header('referrer-policy', 'no-referrer');
      void reply.header('cross-origin-opener-policy', 'same-origin');
      if (request.url.startsWith('/v1/') || request.url.startsWith('/codec/'))
        void reply.header('cache-control', 'no-store');
      done(null, payload);
    });
  },
  { name: 'notify-security-headers', fastify: '5.x' },
);
