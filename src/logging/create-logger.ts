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
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: traceFields,
    },
    options.destination,
  );
}
