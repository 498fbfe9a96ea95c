import { describe, expect, it } from 'vitest';
import { classifyRecord } from '../ingest/classify.js';
import { encodeEnvelope, hashRequest } from '../kafka/envelope.js';
import type { NotificationRequest } from '../shared/notification.js';
import { openRequest, sealRequest } from './envelope-sealing.js';
import { DecryptionError, generatePayloadKeyEntry, PayloadKeyring } from './keyring.js';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from './payload-codec.js';

const k1 = generatePayloadKeyEntry('k1');
const k2 = generatePayloadKeyEntry('k2');
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

describe('PayloadKeyring', () => {
  it('decrypts with an older key after rotation and encrypts with the current one', () => {
    const before = PayloadKeyring.fromSpec(k1);
    const sealed = before.seal(Buffer.from('ada@example.com'));
    const after = PayloadKeyring.fromSpec(`${k1},${k2}`, 'k2');
    expect(after.open(sealed).toString()).toBe('ada@example.com');
    expect(after.seal(Buffer.from('x')).keyId).toBe('k2');
  });

  it('names the missing key id when data was encrypted with a removed key', () => {
    const sealed = PayloadKeyring.fromSpec(k1).seal(Buffer.from('x'));
    expect(() => PayloadKeyring.fromSpec(k2).open(sealed)).toThrow(/key id "k1", which is not in PAYLOAD_KEYS/);
  });

  it('detects altered ciphertext and a different key with the same id', () => {
    const keyring = PayloadKeyring.fromSpec(k1);
    const sealed = keyring.seal(Buffer.from('hello'));
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => keyring.open({ ...sealed, ciphertext: flipped })).toThrow(DecryptionError);
    expect(() => PayloadKeyring.fromSpec(generatePayloadKeyEntry('k1')).open(sealed)).toThrow(/authentication failed/);
  });

  it('requires PAYLOAD_KEY_ID when several keys are configured', () => {
    expect(() => PayloadKeyring.fromSpec(`${k1},${k2}`)).toThrow(/PAYLOAD_KEY_ID/);
  });
});

describe('AesGcmPayloadCodec', () => {
  it('encrypts a payload so neither data nor metadata shows, and decodes it back exactly', async () => {
    const codec = new AesGcmPayloadCodec(PayloadKeyring.fromSpec(k1));
    const payload = {
      metadata: { encoding: Buffer.from('json/plain') },
      data: Buffer.from('{"to":"ada@example.com"}'),
    };
    const [encoded] = await codec.encode([payload]);
    expect(text(encoded?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded?.metadata?.[KEY_ID_METADATA])).toBe('k1');
    expect(Buffer.from(encoded?.data ?? new Uint8Array()).includes('ada@example.com')).toBe(false);
    const [decoded] = await codec.decode([encoded ?? {}]);
    expect(text(decoded?.data)).toBe('{"to":"ada@example.com"}');
    expect(text(decoded?.metadata?.encoding)).toBe('json/plain');
  });

  it('passes payloads that were never encrypted through unchanged', async () => {
    const codec = new AesGcmPayloadCodec(PayloadKeyring.fromSpec(k1));
    const plain = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') };
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});

describe('Kafka envelope sealing', () => {
  const request: NotificationRequest = {
    routing: 'all',
    deliveries: [{ channel: 'email', to: 'ada@example.com', content: { subject: 'Hi', text: 'Secret body' } }],
  };
  const id = 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f';
  const envelope = {
    v: 1,
    id,
    clientId: 'acme',
    acceptedAt: new Date().toISOString(),
    bodyHash: hashRequest(request),
    request,
  };

  it('writes records without recipients or content, which ingest decrypts and validates', () => {
    const keyring = PayloadKeyring.fromSpec(k1);
    const record = encodeEnvelope(envelope, undefined, (nid, r) => sealRequest(keyring, nid, r));
    expect(record.value).not.toContain('ada@example.com');
    expect(record.value).not.toContain('Secret body');
    const classified = classifyRecord(
      { key: Buffer.from(record.key), value: Buffer.from(record.value) },
      1 << 20,
      keyring,
    );
    expect(classified.kind).toBe('valid');
    expect(classified.kind === 'valid' ? classified.envelope.request : undefined).toEqual(request);
  });

  it('dead-letters a record whose key is not configured, naming PAYLOAD_KEYS', () => {
    const record = encodeEnvelope(envelope, undefined, (nid, r) => sealRequest(PayloadKeyring.fromSpec(k2), nid, r));
    const classified = classifyRecord(
      { key: Buffer.from(record.key), value: Buffer.from(record.value) },
      1 << 20,
      PayloadKeyring.fromSpec(k1),
    );
    expect(classified).toMatchObject({
      kind: 'poison',
      reason: 'undecryptable',
      error: expect.stringMatching(/PAYLOAD_KEYS/) as unknown,
    });
  });

  it('refuses a sealed request moved into another notification id', () => {
    const keyring = PayloadKeyring.fromSpec(k1);
    const sealed = sealRequest(keyring, id, request);
    expect(() => openRequest(keyring, 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e60', sealed)).toThrow(DecryptionError);
  });

  it('still accepts plaintext records written before encryption was enabled', () => {
    const record = encodeEnvelope(envelope);
    expect(
      classifyRecord(
        { key: Buffer.from(record.key), value: Buffer.from(record.value) },
        1 << 20,
        PayloadKeyring.fromSpec(k1),
      ).kind,
    ).toBe('valid');
  });
});
