import type { FastifyInstance } from 'fastify';

/**
 * Helmet-style response headers on every answer: no MIME sniffing, no framing (clickjacking on /docs), no referrer
 * leaking ids, and no caching of API answers that may contain notification details. The Swagger UI's own
 * Content-Security-Policy comes from `@fastify/swagger-ui` (`staticCSP`).
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  // A callback hook, not an async one: no promise per response on the hot path.
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    if (request.url.startsWith('/v1/') || request.url.startsWith('/codec/')) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
