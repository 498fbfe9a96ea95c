import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

/**
 * Paths redacted from every log line: recipients, message content, credentials. Notification ids stay visible so
 * every line about a notification can be found.
 */
export const REDACT_PATHS = [
  'to',
  'content',
  '*.to',
  '*.content',
  'request.deliveries',
  '*.request.deliveries',
  'deliveries[*].to',
  'deliveries[*].content',
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'token',
  '*.token',
  // Free-form fields a client may fill with personal data, and credentials.
  'metadata',
  '*.metadata',
  'recipient',
  '*.recipient',
  'req.headers.cookie',
  'headers.cookie',
  'apiKey',
  '*.apiKey',
];

const EMAIL_ADDRESS =
  /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;
const PHONE_NUMBER = /\+\d[\d ().-]{5,18}\d/g;

/**
 * Replaces email addresses and phone numbers in free text by placeholders. Provider error texts quote recipients
 * (an SMTP rejection like `550 5.1.1 <ada@example.com>: Recipient address rejected`), and they reach logs as error
 * messages, which path-based redaction cannot see into.
 */
export function scrubText(text: string): string {
  return text.replace(EMAIL_ADDRESS, '[redacted email]').replace(PHONE_NUMBER, '[redacted phone]');
}

/** An error (or an `{ message, … }` object) for a log line, with message, stack and causes scrubbed of recipients. */
export function scrubError(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 4)
    return typeof value === 'string' ? scrubText(value) : value;
  const source =
    value instanceof Error
      ? (pino.stdSerializers.err(value) as unknown as Record<string, unknown>)
      : (value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(source)) {
    out[key] =
      typeof v === 'string'
        ? scrubText(v)
        : key === 'cause' || (v !== null && typeof v === 'object' && !Array.isArray(v))
          ? scrubError(v, depth + 1)
          : v;
  }
  return out;
}

/** Trace and span id of the active OpenTelemetry span, so log lines can be joined with traces (empty when tracing is off). */
function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  return span !== undefined && isSpanContextValid(span) ? { traceId: span.traceId, spanId: span.spanId } : {};
}

/** Builds the process logger (JSON lines on stdout), tagged with the component name and the active trace id. */
export function createLogger(options: { level: string; component: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { component: options.component, pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Errors carry provider texts; `error` is the key the Temporal SDK uses ("Activity failed").
      serializers: { err: scrubError, error: scrubError },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: traceFields,
    },
    options.destination,
  );
}
