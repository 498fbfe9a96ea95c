import { PayloadKeyring } from '../../src/crypto/keyring.js';

/**
 * The payload key the history fixtures were captured with. Histories are captured and replayed with the production
 * data converter (encrypted payloads, encrypted failure attributes), so a change to the codec that cannot read old
 * histories fails the replay test too. Test data only: this key protects nothing.
 */
export const FIXTURE_PAYLOAD_KEYS = `fixture:${Buffer.alloc(32, 7).toString('base64')}`;

/** The keyring for {@link FIXTURE_PAYLOAD_KEYS}. */
export function fixtureKeyring(): PayloadKeyring {
  return PayloadKeyring.fromSpec(FIXTURE_PAYLOAD_KEYS);
}
