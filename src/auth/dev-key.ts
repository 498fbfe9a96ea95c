import { join } from 'node:path';
import { ensureSecretFile } from '../runtime/secret-file.js';
import { resolveNotifyHome } from '../runtime/notify-home.js';
import { API_KEY_PREFIX, generateApiKey } from './api-keys.js';

/** Where `npm start` keeps its development API key: `<NOTIFY_HOME or .notify>/dev-api-key` (mode 0600). */
export function devApiKeyFile(notifyHome?: string): string {
  return join(resolveNotifyHome(notifyHome), 'dev-api-key');
}

/**
 * The development API key of `npm start`: read from `file`, or generated there on first use (atomically, mode 0600),
 * so the key printed at start keeps working across restarts. Delete the file to get a new one.
 */
export function ensureDevApiKey(file: string): string {
  return ensureSecretFile(file, generateApiKey, (v) => v.startsWith(API_KEY_PREFIX));
}
