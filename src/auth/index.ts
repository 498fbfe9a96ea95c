/**
 * Access control, the pure part: API keys with scopes (parsing, hashing, constant-time verification), the principal
 * type, the gateway's auth settings, the development key. The HTTP side is `src/api/plugins`.
 */
export {
  API_KEY_PREFIX,
  ApiKeyVerifier,
  assertKeyName,
  formatApiKeyEntry,
  generateApiKey,
  hashApiKey,
  parseApiKeys,
  parseScopes,
  SCOPES,
} from './api-keys.js';
export type { ApiKeyEntry, Scope } from './api-keys.js';
export { devApiKeyFile, ensureDevApiKey } from './dev-key.js';
export { ANONYMOUS_CLIENT } from './principal.js';
export type { AuthSettings, Principal } from './principal.js';
export { gatewayAuthSettings } from './settings.js';
export type { AuthConfig } from './settings.js';
