import { describe, expect, it } from 'vitest';
import { ApiKeyVerifier, formatApiKeyEntry, generateApiKey, hashApiKey, parseApiKeys } from './api-keys.js';

describe('API keys', () => {
  it('round-trips a generated key through its API_KEYS entry', () => {
    const key = generateApiKey();
    const [entry] = parseApiKeys(formatApiKeyEntry('acme', ['send', 'read'], key));
    expect(entry?.name).toBe('acme');
    expect(entry?.scopes).toEqual(['send', 'read']);
    expect(new ApiKeyVerifier(parseApiKeys(formatApiKeyEntry('acme', ['send'], key))).verify(key)?.name).toBe('acme');
  });

  it('never puts the key itself into the configuration line', () => {
    const key = generateApiKey();
    const line = formatApiKeyEntry('acme', ['send'], key);
    expect(line).not.toContain(key);
    expect(line).toContain(hashApiKey(key));
  });

  it('finds nothing for an unknown, empty or almost-right key', () => {
    const key = generateApiKey();
    const verifier = new ApiKeyVerifier(parseApiKeys(formatApiKeyEntry('acme', ['send'], key)));
    expect(verifier.verify(generateApiKey())).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
    expect(verifier.verify(`${key.slice(0, -1)}x`)).toBeUndefined();
  });

  it('accepts two keys of one client so keys rotate without changing ownership', () => {
    const [oldKey, newKey] = [generateApiKey(), generateApiKey()];
    const verifier = new ApiKeyVerifier(parseApiKeys(`${formatApiKeyEntry('acme', ['send'], oldKey)},${formatApiKeyEntry('acme', ['send', 'read'], newKey)}`));
    expect(verifier.verify(oldKey)?.scopes).toEqual(['send']);
    expect(verifier.verify(newKey)?.scopes).toEqual(['send', 'read']);
  });

  it.each([
    ['acme', /4 colon-separated fields/],
    [`acme:send:md5:${'a'.repeat(64)}`, /sha256/],
    [`acme:write:sha256:${'a'.repeat(64)}`, /unknown scope "write"; known scopes: send, read, admin/],
    ['acme:send:sha256:nfy_plaintextkey', /64 lowercase hex/],
    [`a b:send:sha256:${'a'.repeat(64)}`, /letters, digits/],
    [`a:send:sha256:${'a'.repeat(64)},b:read:sha256:${'a'.repeat(64)}`, /configured twice/],
  ])('rejects the entry %s with a message naming the fix', (spec, message) => {
    expect(() => parseApiKeys(spec)).toThrow(message);
  });
});
