import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadKeyring } from '../crypto/keyring.js';
import { openRequest, sealRequest } from '../crypto/envelope-sealing.js';
import type { SealedRequest } from '../crypto/envelope-sealing.js';
import type { NotificationRequest } from '../shared/notification.js';
import { canonicalJson, encodeEnvelope, hashCanonicalJson, hashRequest } from './envelope.js';

const request = {
  routing: 'all',
  metadata: { b: 1, a: [1, 'x', null] },
  deliveries: [{ channel: 'sms', to: '+14155550100', content: { body: 'hi' } }],
} as unknown as NotificationRequest;
const envelope = {
  v: 1,
  id: 'ntf_0123456789abcdef0123456789abcdef',
  clientId: 'acme',
  acceptedAt: '2026-12-01T00:00:00.000Z',
  bodyHash: hashRequest(request),
  request,
};

describe('envelope encoding', () => {
  it('canonical JSON is valid JSON of the same value, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const json = canonicalJson(value);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(value)));
        const reordered: unknown = JSON.parse(JSON.stringify(value), (_k, v: unknown) =>
          v !== null && typeof v === 'object' && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).reverse())
            : v,
        );
        expect(canonicalJson(reordered)).toBe(json);
      }),
    );
  });

  it('a record built from the pre-encoded request carries exactly the request the plain encoding carries', () => {
    const plain = encodeEnvelope(envelope, 'tp');
    const reused = encodeEnvelope(envelope, 'tp', undefined, canonicalJson(request));
    expect(JSON.parse(reused.value)).toEqual(JSON.parse(plain.value));
    expect(reused.headers).toEqual(plain.headers);
    expect(hashCanonicalJson(canonicalJson(request))).toBe(envelope.bodyHash);
  });

  it('seals the pre-encoded request so that ingest opens the same request', () => {
    const keyring = PayloadKeyring.fromSpec(`k1:${Buffer.alloc(32, 7).toString('base64')}`);
    const record = encodeEnvelope(
      envelope,
      undefined,
      (id, r, json) => sealRequest(keyring, id, r, json),
      canonicalJson(request),
    );
    const value = JSON.parse(record.value) as { sealedRequest: SealedRequest; request?: unknown };
    expect(value.request).toBeUndefined();
    expect(openRequest(keyring, envelope.id, value.sealedRequest)).toEqual(request);
  });

  it('never reuses an IV across sealed records, also across IV pool refills', () => {
    const keyring = PayloadKeyring.fromSpec(`k1:${Buffer.alloc(32, 7).toString('base64')}`);
    const ivs = new Set(Array.from({ length: 1_000 }, () => sealRequest(keyring, envelope.id, request).iv));
    expect(ivs.size).toBe(1_000);
  });
});
