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
    const verifier = new ApiKeyVerifier(
      parseApiKeys(
        `${formatApiKeyEntry('acme', ['send'], oldKey)},${formatApiKeyEntry('acme', ['send', 'read'], newKey)}`,
      ),
    );
    expect(verifier.verify(oldKey)?.scopes).toEqual(['send']);
    expect(verifier.verify(newKey)?.scopes).toEqual(['send', 'read']);
  });

  it('answers a repeat caller from the cache of verified keys with the same entry, and never caches unknown keys', () => {
    const key = generateApiKey();
    const verifier = new ApiKeyVerifier(parseApiKeys(formatApiKeyEntry('acme', ['send'], key)));
    expect(verifier.verify(`${key}x`)).toBeUndefined();
    expect(verifier.cachedKeys).toBe(0);
    const first = verifier.verify(key);
    expect(verifier.cachedKeys).toBe(1);
    expect(verifier.verify(key)).toBe(first);
    expect(verifier.verify(key.slice(0, -1))).toBeUndefined();
    expect(verifier.cachedKeys).toBe(1);
  });

  it('keeps the cache of verified keys within its bound and still verifies evicted keys', () => {
    const keys = Array.from({ length: 5 }, () => generateApiKey());
    const verifier = new ApiKeyVerifier(
      parseApiKeys(keys.map((k, i) => formatApiKeyEntry(`c${i}`, ['send'], k)).join(',')),
      2,
    );
    for (const k of keys) verifier.verify(k);
    expect(verifier.cachedKeys).toBe(2);
    expect(keys.map((k) => verifier.verify(k)?.name)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(verifier.cachedKeys).toBe(2);
  });

  it('refuses a revoked key after rotation even though the previous key set had verified and cached it', () => {
    const [oldKey, newKey] = [generateApiKey(), generateApiKey()];
    const before = new ApiKeyVerifier(
      parseApiKeys(`${formatApiKeyEntry('acme', ['send'], oldKey)},${formatApiKeyEntry('acme', ['send'], newKey)}`),
    );
    expect(before.verify(oldKey)?.name).toBe('acme');
    // Rotation done: the old key is removed from API_KEYS and the gateway builds its verifier from the new set.
    const after = new ApiKeyVerifier(parseApiKeys(formatApiKeyEntry('acme', ['send'], newKey)));
    expect(after.verify(oldKey)).toBeUndefined();
    expect(after.verify(newKey)?.name).toBe('acme');
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
