import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyRecord } from '../../src/ingest/classify.js';
import { encodeEnvelope, hashRequest } from '../../src/kafka/envelope.js';
import type { NotificationRequest } from '../../src/shared/notification.js';
import { garbageBytes, mutatedBody, nastyValue, validBody } from './arbitraries.js';

/**
 * Bad input on the ingest side: whatever bytes sit in a Kafka record, `classifyRecord` never throws and either
 * recognises a valid envelope or names the reason it is poison — the basis of "dead-letter, commit, move on".
 */
const REASONS = new Set(['oversized', 'not-json', 'invalid-schema', 'key-mismatch', 'empty', 'undecryptable']);
const MAX = 4096;

function expectPoison(key: Buffer | null, value: Buffer | null): void {
  const result = classifyRecord({ key, value }, MAX);
  expect(result.kind).toBe('poison');
  if (result.kind === 'poison') {
    expect(REASONS.has(result.reason), result.reason).toBe(true);
    expect(result.error.length).toBeGreaterThan(0);
  }
}

const envelopeOf = (request: unknown, id = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4eff') => ({
  v: 1,
  id,
  clientId: 'anonymous',
  acceptedAt: '2030-01-01T00:00:00.000Z',
  bodyHash: hashRequest(request as NotificationRequest),
  request,
});

describe('ingest classification of arbitrary records', () => {
  it('classifies arbitrary bytes as poison with a reason, without throwing', () => {
    fc.assert(
      fc.property(fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a))), garbageBytes, (key, value) =>
        expectPoison(key, value),
      ),
      { numRuns: 1_000 },
    );
  });

  it('classifies arbitrary JSON values as poison (none of them is an envelope)', () => {
    fc.assert(
      fc.property(nastyValue, (value) => expectPoison(null, Buffer.from(JSON.stringify(value) ?? 'undefined'))),
      { numRuns: 500 },
    );
  });

  it('never throws on envelopes carrying mutated requests, and accepts exactly what the schema allows', () => {
    fc.assert(
      fc.property(mutatedBody, (request) => {
        const envelope = envelopeOf(request);
        const result = classifyRecord(
          { key: Buffer.from(envelope.id), value: Buffer.from(JSON.stringify(envelope)) },
          1024 * 1024,
        );
        expect(['valid', 'poison']).toContain(result.kind);
        if (result.kind === 'poison') expect(REASONS.has(result.reason)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('treats empty, oversized and key-mismatched records as poison with the matching reason', () => {
    expectPoison(null, null);
    expectPoison(null, Buffer.alloc(0));
    expect(classifyRecord({ key: null, value: Buffer.alloc(MAX + 1, 0x7b) }, MAX)).toMatchObject({
      kind: 'poison',
      reason: 'oversized',
    });
    fc.assert(
      fc.property(validBody, fc.string({ minLength: 1, maxLength: 40 }), (request, key) => {
        const record = encodeEnvelope(envelopeOf(request) as Parameters<typeof encodeEnvelope>[0]);
        const result = classifyRecord({ key: Buffer.from(key), value: Buffer.from(record.value) }, 1024 * 1024);
        if (key === record.key) expect(result.kind).toBe('valid');
        else expect(result).toMatchObject({ kind: 'poison', reason: 'key-mismatch' });
      }),
      { numRuns: 200 },
    );
  });
});
