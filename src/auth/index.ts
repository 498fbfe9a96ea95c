/** Access control of the gateway: API keys with scopes, owner scoping, per-client rate limits, security headers. */
export { API_KEY_PREFIX, ApiKeyVerifier, assertKeyName, formatApiKeyEntry, generateApiKey, hashApiKey, parseApiKeys, parseScopes, SCOPES } from './api-keys.js';
export type { ApiKeyEntry, Scope } from './api-keys.js';
export { devApiKeyFile, ensureDevApiKey } from './dev-key.js';
export { ANONYMOUS_CLIENT, clientIdOf, registerAuth, requireScope } from './http-auth.js';
export type { AuthSettings, Principal } from './http-auth.js';
export { rateLimitKey, registerRateLimit } from './rate-limit.js';
export type { RateLimitSettings } from './rate-limit.js';
export { registerSecurityHeaders } from './security-headers.js';
export { gatewayAuthSettings } from './settings.js';
export type { AuthConfig } from './settings.js';
