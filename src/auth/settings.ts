import type { ApiKeyEntry } from './api-keys.js';
import type { AuthSettings } from './principal.js';

/** The configuration the gateway's authentication is decided from. */
export interface AuthConfig {
  API_KEYS?: ApiKeyEntry[];
  AUTH_DISABLED: boolean;
}

/**
 * Decides the gateway's authentication: the configured API_KEYS; or none at all when AUTH_DISABLED=true (logged at
 * WARN on every start). Without either the gateway refuses to start, in every environment: an unauthenticated
 * gateway must be an explicit choice, never the result of a missing variable.
 */
export function gatewayAuthSettings(config: AuthConfig): AuthSettings {
  if (config.AUTH_DISABLED) return { disabled: true };
  if (config.API_KEYS === undefined || config.API_KEYS.length === 0) {
    throw new Error(
      'Refusing to start the gateway without API keys: set API_KEYS (create one with `npm run keys -- new <name> --scopes send,read`), ' +
        'or set AUTH_DISABLED=true to run without authentication (local experiments only). `npm start` generates a development key for you.',
    );
  }
  return { keys: config.API_KEYS };
}
