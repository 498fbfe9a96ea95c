import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests); the caller decides whether to start the server at all (port setting 0 = off). */
  port: number;
  registry: Registry;
  /**
   * More exposition text appended to the registry's, e.g. the Temporal SDK's own Prometheus endpoint, so that one
   * scrape target per process is enough. Failures are reported as a comment, never as a failed scrape.
   */
  extra?: () => Promise<string>;
}

/** A running `/metrics` listener. */
export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` in the Prometheus text format for processes without an HTTP server of their own (ingest,
 * workers). Everything else is 404.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are served at GET /metrics\n');
      return;
    }
    void (async () => {
      try {
        let body = await options.registry.metrics();
        if (options.extra !== undefined) {
          try {
            body += `\n${await options.extra()}`;
          } catch (err) {
            body += `\n# extra metrics unavailable: ${(err instanceof Error ? err.message : String(err)).replace(/\n/g, ' ')}\n`;
          }
        }
        res.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
      } catch (err) {
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Metrics port ${options.port} on ${options.host} is in use: choose another *_METRICS_PORT, or 0 to turn the listener off`,
              { cause: err },
            )
          : err,
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${options.host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Starts the `/metrics` listener of an entry point, or returns `undefined` (with a warning naming `setting`) when the
 * port is taken: metrics are not worth refusing to deliver notifications over, e.g. when a second worker starts on the
 * same machine with the default port.
 */
export async function startMetricsServerOrWarn(
  options: MetricsServerOptions,
  logger: Logger,
  setting: string,
): Promise<MetricsServer | undefined> {
  try {
    const server = await startMetricsServer(options);
    logger.info({ url: server.url }, 'metrics listening');
    return server;
  } catch (err) {
    logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      `metrics listener disabled: set ${setting} to a free port (0 = off)`,
    );
    return undefined;
  }
}

/** Fetches another Prometheus endpoint's exposition text (used to re-serve the Temporal SDK's metrics). */
export async function fetchExposition(url: string, timeoutMs = 2_000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.text();
}
