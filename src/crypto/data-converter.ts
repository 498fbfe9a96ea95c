import { fileURLToPath } from 'node:url';
import { DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import type { DataConverter, LoadedDataConverter } from '@temporalio/common';
import type { PayloadKeyring } from './keyring.js';
import { AesGcmPayloadCodec } from './payload-codec.js';

/**
 * Path of the module exporting the encrypting failure converter (`encodeCommonAttributes: true`). Workers load it
 * with require() and the workflow bundler bundles it, hence a plain `.mjs` file rather than TypeScript.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.mjs', import.meta.url));

/**
 * Data converter for workers (`Worker.create({ dataConverter })`) and the workflow bundle: every payload encrypted,
 * failure messages and stack traces moved into encrypted attributes.
 */
export function workerDataConverter(keyring: PayloadKeyring): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(keyring)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** The same data converter for clients (`new Client({ dataConverter })`), already loaded (no module path needed). */
export function clientDataConverter(keyring: PayloadKeyring): LoadedDataConverter {
  return {
    payloadConverter: defaultPayloadConverter,
    failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }),
    payloadCodecs: [new AesGcmPayloadCodec(keyring)],
  };
}
