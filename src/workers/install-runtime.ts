import { Runtime } from '@temporalio/worker';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/worker';
import type { Logger } from 'pino';

/**
 * Routes the Temporal SDK's own logs (worker state, core) into the process's pino logger, WARN and above by default.
 * With `prometheusBindAddress` (`host:port`), the SDK also serves its own metrics (task slots, poll latencies,
 * schedule-to-start latency, sticky cache, …) in the Prometheus format at `http://<bindAddress>/metrics`. When that
 * address is taken (another worker on the same machine), the worker runs without SDK metrics rather than not at all.
 * Returns whether SDK metrics are served.
 */
export function installTemporalRuntime(
  logger: Logger,
  level: LogLevel = 'WARN',
  options: { prometheusBindAddress?: string } = {},
): boolean {
  const log = logger.child({ component: 'temporal-sdk' });
  const adapter = temporalLogAdapter(logger, level);
  if (options.prometheusBindAddress !== undefined) {
    try {
      Runtime.install({
        logger: adapter,
        telemetryOptions: { metrics: { prometheus: { bindAddress: options.prometheusBindAddress } } },
      });
      return true;
    } catch (err) {
      log.warn(
        {
          err: { message: err instanceof Error ? err.message : String(err) },
          bindAddress: options.prometheusBindAddress,
        },
        'Temporal SDK metrics disabled: cannot listen there; give each worker on this machine its own TEMPORAL_SDK_METRICS_PORT (0 = off)',
      );
    }
  }
  Runtime.install({ logger: adapter });
  return false;
}

/**
 * The Temporal SDK logger routed into pino (`component: temporal-sdk`), at `level` and above. Its metadata goes
 * through the process logger's serializers, so the `error` of an "Activity failed" line (which carries the
 * provider's text, e.g. an SMTP rejection quoting the address) is scrubbed like every other logged error.
 */
export function temporalLogAdapter(logger: Logger, level: LogLevel = 'WARN'): TemporalLogger {
  const order: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
  const min = order.indexOf(level);
  const log = logger.child({ component: 'temporal-sdk' });
  const emit = (l: LogLevel, message: string, meta?: LogMetadata) => {
    if (order.indexOf(l) < min) return;
    // Expected by design: the workflow worker has no activities and channel workers have no workflows.
    if (message.startsWith('No activities registered') || message.startsWith('No workflows registered')) return;
    const fn =
      l === 'ERROR'
        ? log.error.bind(log)
        : l === 'WARN'
          ? log.warn.bind(log)
          : l === 'INFO'
            ? log.info.bind(log)
            : log.debug.bind(log);
    fn(meta ?? {}, message);
  };
  return {
    log: emit,
    trace: (m, meta) => emit('TRACE', m, meta),
    debug: (m, meta) => emit('DEBUG', m, meta),
    info: (m, meta) => emit('INFO', m, meta),
    warn: (m, meta) => emit('WARN', m, meta),
    error: (m, meta) => emit('ERROR', m, meta),
  };
}
