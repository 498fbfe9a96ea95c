import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';

/** Rate-limit settings (config RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS; max 0 disables the limit). */
export interface RateLimitSettings {
  /** Requests per window per authenticated client. */
  max: number;
  windowMs: number;
  /**
   * Requests per window per IP address for callers without a valid key (never more than `max`): failed key guesses
   * stay throttled even when the per-client budget is large. Defaults to `max`.
   */
  unauthenticatedMax?: number;
}

/** Routes never limited: load-balancer probes must not be throttled. */
const UNLIMITED_ROUTES = new Set(['/healthz', '/readyz']);

/**
 * The bucket a request counts against: the client id for an authenticated caller (all of a client's keys share it),
 * the IP address otherwise (unauthenticated or auth disabled), so guessing keys is throttled per IP.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const principal = request.principal;
  return principal !== undefined && !principal.anonymous ? `client:${principal.clientId}` : `ip:${request.ip}`;
}

/**
 * Per-client rate limiting with `@fastify/rate-limit` (authenticated clients get `max`, callers without a valid key
 * `unauthenticatedMax` per IP): 429 with `Retry-After` and the IETF draft `RateLimit-*`
 * headers. Must be registered after the auth hook (it reads the principal) and before the routes. The counters are
 * in this process's memory: with several gateways behind a load balancer each enforces its own limit, so configure
 * the plugin's Redis store (`redis` option) to share one limit across them.
 */
export const rateLimitPlugin = fp<RateLimitSettings>(
  async (app: FastifyInstance, settings) => {
    if (settings.max === 0) return;
    await app.register(fastifyRateLimit, {
      global: true,
      max: (request) =>
        request.principal !== undefined
          ? settings.max
          : Math.min(settings.max, settings.unauthenticatedMax ?? settings.max),
      timeWindow: settings.windowMs,
      enableDraftSpec: true,
      keyGenerator: rateLimitKey,
      allowList: (request) => UNLIMITED_ROUTES.has(request.routeOptions.url ?? ''),
      errorResponseBuilder: (_request, context) =>
        new ApiError(
          429,
          'RATE_LIMITED',
          `Rate limit exceeded: at most ${context.max} requests per ${Math.round(settings.windowMs / 1000)} s for this client; retry after ${context.after}.`,
        ),
    });
  },
  // Counts per client: needs the principal set by the auth plugin's onRequest hook, which must run first.
  { name: 'notify-rate-limit', fastify: '5.x', dependencies: ['notify-auth'] },
);
