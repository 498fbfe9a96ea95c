import { describe, expect, it } from 'vitest';
import { EndpointPresence } from './endpoint-presence.js';

function fakeLookup(answers: Record<string, boolean>) {
  const calls: string[] = [];
  let fail = false;
  const lookup = (owner: string): Promise<boolean> => {
    calls.push(owner);
    return fail ? Promise.reject(new Error('database down')) : Promise.resolve(answers[owner] ?? false);
  };
  return { lookup, calls, answers, failNext: (f: boolean) => (fail = f) };
}

describe('EndpointPresence', () => {
  it('looks a new client up once, even for concurrent submissions, then answers from memory', async () => {
    const db = fakeLookup({ a: true });
    const presence = new EndpointPresence(db.lookup, { ttlMs: 1_000, now: () => 0 });
    const [x, y] = await Promise.all([presence.has('a'), presence.has('a')]);
    expect([x, y]).toEqual([true, true]);
    expect(presence.has('a')).toBe(true);
    expect(presence.has('b')).toBeInstanceOf(Promise);
    expect(await presence.has('b')).toBe(false);
    expect(presence.has('b')).toBe(false);
    expect(db.calls).toEqual(['a', 'b']);
  });

  it('answers a stale entry at once and refreshes it in the background', async () => {
    let now = 0;
    const db = fakeLookup({ a: false });
    const presence = new EndpointPresence(db.lookup, { ttlMs: 1_000, now: () => now });
    expect(await presence.has('a')).toBe(false);
    db.answers.a = true;
    now = 1_500;
    expect(presence.has('a')).toBe(false);
    expect(presence.has('a')).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(presence.has('a')).toBe(true);
    expect(db.calls).toEqual(['a', 'a']);
  });

  it('answers true when the lookup fails, so events are never lost to a database outage', async () => {
    let now = 0;
    const errors: string[] = [];
    const db = fakeLookup({});
    const presence = new EndpointPresence(db.lookup, {
      ttlMs: 1_000,
      onError: (_e, o) => errors.push(o),
      now: () => now,
    });
    db.failNext(true);
    expect(await presence.has('a')).toBe(true);
    expect(errors).toEqual(['a']);
    // The failure is not retried by every submission: "has endpoints" until the next look after ttlMs.
    db.failNext(false);
    expect(presence.has('a')).toBe(true);
    now = 1_000;
    expect(presence.has('a')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(presence.has('a')).toBe(false);
    expect(db.calls).toEqual(['a', 'a']);
  });

  it('answers a first submission "has endpoints" when the database is slow, and the late answer from then on', async () => {
    let release: (v: boolean) => void = () => undefined;
    const presence = new EndpointPresence(() => new Promise<boolean>((r) => (release = r)), {
      ttlMs: 60_000,
      maxWaitMs: 20,
      now: () => 0,
    });
    expect(await presence.has('a')).toBe(true);
    release(false);
    await new Promise((r) => setImmediate(r));
    expect(presence.has('a')).toBe(false);
  });

  it('keeps the last good answer when a refresh fails', async () => {
    let now = 0;
    const db = fakeLookup({ a: false });
    const presence = new EndpointPresence(db.lookup, { ttlMs: 1_000, now: () => now });
    expect(await presence.has('a')).toBe(false);
    now = 2_000;
    db.failNext(true);
    expect(presence.has('a')).toBe(false);
    await new Promise((r) => setImmediate(r));
    db.failNext(false);
    db.answers.a = true;
    expect(presence.has('a')).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(presence.has('a')).toBe(true);
  });

  it('lets a route that created an endpoint win over a lookup answered before it', async () => {
    let release: (v: boolean) => void = () => undefined;
    const presence = new EndpointPresence(() => new Promise<boolean>((r) => (release = r)), {
      ttlMs: 1_000,
      now: () => 0,
    });
    const first = presence.has('a');
    presence.markPresent('a');
    release(false);
    expect(await first).toBe(true);
    expect(presence.has('a')).toBe(true);
  });

  it('forgets a client whose endpoint was deleted, so the next submission looks it up again', async () => {
    const db = fakeLookup({ a: true });
    const presence = new EndpointPresence(db.lookup, { ttlMs: 60_000, now: () => 0 });
    expect(await presence.has('a')).toBe(true);
    db.answers.a = false;
    presence.forget('a');
    expect(await presence.has('a')).toBe(false);
    expect(db.calls).toEqual(['a', 'a']);
  });

  it('remembers at most maxEntries clients, dropping the oldest answer first', async () => {
    const db = fakeLookup({});
    const presence = new EndpointPresence(db.lookup, { ttlMs: 60_000, maxEntries: 2, now: () => 0 });
    for (const o of ['a', 'b', 'c']) await presence.has(o);
    expect(presence.has('b')).toBe(false);
    expect(presence.has('c')).toBe(false);
    expect(presence.has('a')).toBeInstanceOf(Promise);
  });
});
