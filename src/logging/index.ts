/** Structured logging with PII redaction. */
export { createLogger, REDACT_PATHS } from './create-logger.js';
