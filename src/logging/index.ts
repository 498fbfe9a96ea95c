/** Structured logging with PII redaction. */
export { createLogger, REDACT_PATHS, scrubError, scrubText } from './create-logger.js';
