import { describe, expect, it } from 'vitest';
import { AcceptanceCache } from './acceptance-cache.js';

const entry = (i: number, clientId = 'c1') => ({ bodyHash: `h${i}`, acceptedAt: `t${i}`, clientId });

describe('AcceptanceCache', () => {
  it('remembers at least the last half of its bound and never holds more than the bound, however many it accepted', () => {
    const cache = new AcceptanceCache(1_000);
    for (let i = 0; i < 25_000; i++) {
      cache.set(`id${i}`, entry(i));
      expect(cache.size).toBeLessThanOrEqual(1_000);
    }
    for (let i = 25_000 - 500; i < 25_000; i++) expect(cache.get(`id${i}`)?.bodyHash).toBe(`h${i}`);
    expect(cache.get('id0')).toBeUndefined();
    expect(cache.get(`id${25_000 - 1_001}`)).toBeUndefined();
  });

  it('answers the newest entry for an id set again, also while an older one is in the previous generation', () => {
    const cache = new AcceptanceCache(4);
    cache.set('a', entry(1));
    cache.set('b', entry(2)); // generation full: a and b move to the previous one
    cache.set('a', entry(3));
    expect(cache.get('a')?.bodyHash).toBe('h3');
    expect(cache.get('b')?.bodyHash).toBe('h2');
  });

  it("hides another client's notification", () => {
    const cache = new AcceptanceCache();
    cache.set('x', entry(1, 'owner'));
    expect(cache.getOwned('x', 'owner')?.bodyHash).toBe('h1');
    expect(cache.getOwned('x', 'someone-else')).toBeUndefined();
  });
});
