// Loaded by path (Temporal's `failureConverterPath`): by the worker with require() and bundled into workflow code,
// so it is plain JavaScript importing only @temporalio/common. See data-converter.ts.
import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure converter that moves error messages and stack traces into an encoded attributes payload, which the payload
 * codec then encrypts: a failure message quoting a recipient never reaches Temporal's history in clear.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
