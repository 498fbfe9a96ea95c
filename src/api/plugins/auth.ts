import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { ApiKeyVerifier, SCOPES } from '../../auth/api-keys.js';
import type { Scope } from '../../auth/api-keys.js';
import { ANONYMOUS_CLIENT } from '../../auth/principal.js';
import type { AuthSettings, Principal } from '../../auth/principal.js';
import { ApiError } from '../errors.js';

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  settings: AuthSettings;
  logger: Logger;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope a route requires; routes without one are public (health, docs, CORS preflight). */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Set by the auth hook when the request carried a valid key (or auth is disabled). */
    principal?: Principal;
    /** Why there is no principal: no Authorization header, or one that is malformed or unknown. */
    authProblem?: 'missing' | 'invalid';
  }
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]{1,512})[ \t]*$/i;

/**
 * API-key authentication of the gateway (a `fastify-plugin`, so its hooks and the `request.principal` decorator
 * apply to every route). An `onRequest` hook identifies the caller (so the rate limiter, which runs next, can count
 * per client); a `preParsing` hook then enforces the route's `config.scope` before the body is read: 401 +
 * `WWW-Authenticate: Bearer` without a valid key, 403 when the key lacks the scope. Key parsing and verification are
 * the pure part, in `src/auth`.
 */
export const authPlugin = fp<AuthPluginOptions>(
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  async (app: FastifyInstance, { settings, logger }) => {
    const verifier = settings.disabled === true ? undefined : new ApiKeyVerifier(settings.keys);
    if (settings.disabled === true) {
      logger.warn(
        'AUTHENTICATION IS DISABLED (AUTH_DISABLED=true): every caller can send, read, cancel and decode every notification. Never run this way in production.',
      );
    }
    app.decorateRequest('principal', undefined);
    app.decorateRequest('authProblem', undefined);

    app.addHook('onRequest', (request, _reply, done) => {
      identify(request, verifier);
      done();
    });

    // A callback hook, not an async one: no promise per request on the hot path.
    app.addHook('preParsing', (request, _reply, payload, done) => {
      const scope = request.routeOptions.config.scope;
      if (scope === undefined) {
        done(null, payload);
        return;
      }
      try {
        requireScope(request, scope);
      } catch (err) {
        done(err as Error);
        return;
      }
      done(null, payload);
    });
  },
  { name: 'notify-auth', fastify: '5.x' },
);

function identify(request: FastifyRequest, verifier: ApiKeyVerifier | undefined): void {
  if (verifier === undefined) {
    request.principal = { clientId: ANONYMOUS_CLIENT, scopes: SCOPES, anonymous: true };
    return;
  }
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    request.authProblem = 'missing';
    return;
  }
  const match = BEARER.exec(header);
  const entry = match?.[1] === undefined ? undefined : verifier.verify(match[1]);
  if (entry === undefined) {
    request.authProblem = 'invalid';
    return;
  }
  request.principal = { clientId: entry.name, scopes: entry.scopes, anonymous: false };
}

/** Throws the 401/403 answer unless the request's principal holds `scope`; returns the principal. */
export function requireScope(request: FastifyRequest, scope: Scope): Principal {
  const principal = request.principal;
  if (principal === undefined) {
    const invalid = request.authProblem === 'invalid';
    throw new ApiError(
      401,
      invalid ? 'INVALID_API_KEY' : 'MISSING_API_KEY',
      invalid
        ? 'The API key is not valid: send `Authorization: Bearer <key>` with a key configured in API_KEYS.'
        : 'Authentication required: send `Authorization: Bearer <key>` (create a key with `npm run keys -- new <name> --scopes send,read`).',
      undefined,
      { 'www-authenticate': invalid ? 'Bearer realm="notify", error="invalid_token"' : 'Bearer realm="notify"' },
    );
  }
  if (!principal.scopes.includes(scope)) {
    throw new ApiError(
      403,
      'INSUFFICIENT_SCOPE',
      `This API key lacks the "${scope}" scope needed here (it has: ${principal.scopes.join(', ')}).`,
      undefined,
      {
        'www-authenticate': `Bearer realm="notify", error="insufficient_scope", scope="${scope}"`,
      },
    );
  }
  return principal;
}

/** The client id of an authenticated request (routes with a `scope` always have one). */
export function clientIdOf(request: FastifyRequest): string {
  if (request.principal === undefined)
    throw new ApiError(
      401,
      'MISSING_API_KEY',
      'Authentication required: send `Authorization: Bearer <key>`.',
      undefined,
      { 'www-authenticate': 'Bearer realm="notify"' },
    );
  return request.principal.clientId;
}
