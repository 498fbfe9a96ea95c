import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Context, TextMapGetter } from '@opentelemetry/api';

/**
 * Reads Kafka record headers (kafkajs gives Buffers on the consumer side, strings on the producer side) for
 * trace-context extraction. Depends on the OpenTelemetry API only, so core modules can use it without the SDK.
 */
export const kafkaHeaderGetter: TextMapGetter<Record<string, unknown> | undefined> = {
  keys: (carrier) => Object.keys(carrier ?? {}),
  get: (carrier, key) => {
    const value = carrier?.[key];
    const text = (v: unknown): string | undefined =>
      Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : undefined;
    if (Array.isArray(value)) return value.map(text).filter((v): v is string => v !== undefined);
    return text(value);
  },
};

/** The trace context carried by a Kafka record's `traceparent` header (the root context when there is none). */
export function contextFromKafkaHeaders(headers: Record<string, unknown> | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, kafkaHeaderGetter);
}
