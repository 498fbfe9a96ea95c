import { Client, Connection } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { TemporalTls } from '../tls/transport-security.js';

/** Where and how to reach Temporal. */
export interface TemporalClientOptions {
  address: string;
  namespace: string;
  /** Deadline for the initial connection (ms). */
  connectTimeoutMs?: number;
  /** Payload encryption (`clientDataConverter` from src/crypto); must match the workers'. */
  dataConverter?: LoadedDataConverter;
  /** TLS / mTLS settings (from `temporalTlsFromConfig`); plaintext when absent. */
  tls?: TemporalTls;
}

/** Connects a Temporal client. Fails with a message naming TEMPORAL_ADDRESS when the server cannot be reached. */
export async function connectTemporal(
  options: TemporalClientOptions,
): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: options.address,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      tls: options.tls,
    });
  } catch (err) {
    throw new Error(
      `Cannot reach Temporal at ${options.address} (TEMPORAL_ADDRESS): ${err instanceof Error ? err.message : String(err)}. ` +
        'Start it with `npm run infra -- start` or point TEMPORAL_ADDRESS at a running server.',
      { cause: err },
    );
  }
  // The tracing interceptor puts the caller's trace context into workflow start headers; a no-op without a tracer.
  const interceptors = { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
  return {
    client: new Client({
      connection,
      namespace: options.namespace,
      dataConverter: options.dataConverter,
      interceptors,
    }),
    connection,
  };
}
