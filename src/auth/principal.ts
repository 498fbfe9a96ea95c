import type { ApiKeyEntry, Scope } from './api-keys.js';

/** Who is calling: the client id (the key's name) that owns what it creates, and what it may do. */
export interface Principal {
  clientId: string;
  scopes: readonly Scope[];
  /** True when authentication is disabled (AUTH_DISABLED=true): everyone is the `anonymous` client. */
  anonymous: boolean;
}

/** Authentication settings of the gateway: the configured keys, or an explicit opt-out. */
export type AuthSettings = { disabled: true } | { disabled?: false; keys: readonly ApiKeyEntry[] };

/** Client id of every request when authentication is disabled (and of data created before keys existed). */
export const ANONYMOUS_CLIENT = 'anonymous';
