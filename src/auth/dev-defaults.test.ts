import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { ensureDevPayloadKey, resolvePayloadKeyring } from '../crypto/dev-key.js';
import { generatePayloadKeyEntry } from '../crypto/keyring.js';
import { temporalOptionsFromConfig } from '../../dev/infra/infra.js';
import { temporalServerArgs } from '../../dev/infra/temporal.js';
import { ensureDevApiKey } from './dev-key.js';
import { gatewayAuthSettings } from './settings.js';

/** The development and production defaults of access control and payload encryption. */
const dir = () => mkdtempSync(join(tmpdir(), 'notify-sec-'));

describe('gateway authentication settings', () => {
  it('refuses to start without API_KEYS unless AUTH_DISABLED=true, naming both fixes', () => {
    expect(() => gatewayAuthSettings(loadConfig({}))).toThrow(
      /set API_KEYS .*npm run keys -- new.*AUTH_DISABLED=true/s,
    );
    expect(() => gatewayAuthSettings(loadConfig({ NOTIFY_ENV: 'production' }))).toThrow(/API_KEYS/);
    expect(gatewayAuthSettings(loadConfig({ AUTH_DISABLED: 'true', NOTIFY_ENV: 'production' }))).toEqual({
      disabled: true,
    });
  });
});

describe('development keys', () => {
  it('keeps the development API key across restarts in a file only its owner can read', () => {
    const file = join(dir(), 'dev-api-key');
    const first = ensureDevApiKey(file);
    expect(first).toMatch(/^nfy_/);
    expect(ensureDevApiKey(file)).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('gives every process the same development payload key', () => {
    const file = join(dir(), 'dev-payload-key');
    const keys = [ensureDevPayloadKey(file), ensureDevPayloadKey(file)];
    expect(keys[0]).toBe(keys[1]);
    const a = resolvePayloadKeyring({ NOTIFY_ENV: 'development' }, file).keyring;
    const b = resolvePayloadKeyring({ NOTIFY_ENV: 'development' }, file).keyring;
    expect(b.open(a.seal(Buffer.from('x'))).toString()).toBe('x');
  });

  it('refuses production without PAYLOAD_KEYS and uses PAYLOAD_KEYS when set', () => {
    const file = join(dir(), 'dev-payload-key');
    expect(() => resolvePayloadKeyring({ NOTIFY_ENV: 'production' }, file)).toThrow(
      /PAYLOAD_KEYS is required when NOTIFY_ENV=production/,
    );
    expect(
      resolvePayloadKeyring({ NOTIFY_ENV: 'production', PAYLOAD_KEYS: generatePayloadKeyEntry('prod1') }, file),
    ).toMatchObject({ source: 'config', keyring: { currentKeyId: 'prod1' } });
  });
});

describe('embedded Temporal UI codec endpoint', () => {
  it('points the dev server Web UI at the gateway codec endpoint', () => {
    const options = temporalOptionsFromConfig(loadConfig({ HTTP_PORT: '3100' }), 'temporal');
    expect(options.uiCodecEndpoint).toBe('http://127.0.0.1:3100/codec');
    const args = temporalServerArgs(options);
    expect(args[args.indexOf('--ui-codec-endpoint') + 1]).toBe('http://127.0.0.1:3100/codec');
  });
});
