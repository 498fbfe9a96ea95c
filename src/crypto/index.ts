/** Protection of personal data at rest: AES-256-GCM keyring, Temporal payload codec, Kafka envelope sealing. */
export { DecryptionError, generatePayloadKeyEntry, parsePayloadKeys, PayloadKeyring } from './keyring.js';
export type { Sealed } from './keyring.js';
export { AesGcmPayloadCodec, CIPHER_METADATA, ENCRYPTED_ENCODING, KEY_ID_METADATA } from './payload-codec.js';
export { clientDataConverter, FAILURE_CONVERTER_PATH, workerDataConverter } from './data-converter.js';
export { openRequest, sealedRequestSchema, sealRequest } from './envelope-sealing.js';
export type { SealedRequest } from './envelope-sealing.js';
export { devPayloadKeyFile, ensureDevPayloadKey, resolvePayloadKeyring } from './dev-key.js';
export type { PayloadKeySettings } from './dev-key.js';
