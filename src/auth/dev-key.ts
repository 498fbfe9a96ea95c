import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveInfraPaths } from '../dev/infra/paths.js';
import { API_KEY_PREFIX, generateApiKey } from './api-keys.js';

/** Where `npm start` keeps its development API key: `<NOTIFY_HOME or .notify>/dev-api-key` (mode 0600). */
export function devApiKeyFile(notifyHome?: string): string {
  return join(resolveInfraPaths(notifyHome).home, 'dev-api-key');
}

/**
 * The development API key of `npm start`: read from `file`, or generated there on first use (atomically, mode 0600),
 * so the key printed at start keeps working across restarts. Delete the file to get a new one.
 */
export function ensureDevApiKey(file: string): string {
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.startsWith(API_KEY_PREFIX)) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${generateApiKey()}\n`, { mode: 0o600 });
  try {
    unlinkSync(file);
  } catch {
    // absent (or unreadable garbage we replace)
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readFileSync(file, 'utf8').trim();
}
