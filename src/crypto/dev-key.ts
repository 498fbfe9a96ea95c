import { join } from 'node:path';
import { ensureSecretFile } from '../runtime/secret-file.js';
import { resolveNotifyHome } from '../runtime/notify-home.js';
import { generatePayloadKeyEntry, PayloadKeyring } from './keyring.js';

/** Settings that decide where the payload keys come from. */
export interface PayloadKeySettings {
  NOTIFY_ENV: 'development' | 'production' | 'test';
  PAYLOAD_KEYS?: string;
  PAYLOAD_KEY_ID?: string;
}

/**
 * Reads the development payload key from `file`, creating it (mode 0600) on first use. Creation is atomic (write a
 * temporary file, then hard-link it into place), so the gateway, ingest and workers started together by `npm start`
 * all end up with the same key.
 */
export function ensureDevPayloadKey(file: string): string {
  return ensureSecretFile(file, () => generatePayloadKeyEntry('dev1'));
}

/**
 * The keyring for this process: PAYLOAD_KEYS / PAYLOAD_KEY_ID when set; otherwise, outside production, the
 * development key kept in `devKeyFile` (under .notify/). Production without PAYLOAD_KEYS is refused with the fix.
 */
export function resolvePayloadKeyring(
  settings: PayloadKeySettings,
  devKeyFile: string,
): { keyring: PayloadKeyring; source: 'config' | 'dev-file' } {
  if (settings.PAYLOAD_KEYS !== undefined)
    return { keyring: PayloadKeyring.fromSpec(settings.PAYLOAD_KEYS, settings.PAYLOAD_KEY_ID), source: 'config' };
  if (settings.NOTIFY_ENV === 'production') {
    throw new Error(
      'PAYLOAD_KEYS is required when NOTIFY_ENV=production (personal data in Temporal and Kafka is encrypted with it); generate a key with `npm run keys -- payload-key <kid>`.',
    );
  }
  return {
    keyring: PayloadKeyring.fromSpec(ensureDevPayloadKey(devKeyFile), settings.PAYLOAD_KEY_ID),
    source: 'dev-file',
  };
}

/** Where the development payload key lives: `<NOTIFY_HOME or .notify>/dev-payload-key`. */
export function devPayloadKeyFile(notifyHome?: string): string {
  return join(resolveNotifyHome(notifyHome), 'dev-payload-key');
}
