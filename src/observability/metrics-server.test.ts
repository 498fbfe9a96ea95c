import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config.js';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { startMetricsServer, startMetricsServerOrWarn } from './metrics-server.js';
import type { MetricsServer } from './metrics-server.js';
import { parseOtlpHeaders, setupTracing } from './tracing.js';

let servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

function registryWithCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'notify_test_total', help: 'test', registers: [registry] }).inc(3);
  return registry;
}

describe('the metrics listener', () => {
  it('serves the registry at /metrics and 404 elsewhere', async () => {
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: registryWithCounter() });
    servers.push(server);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('notify_test_total 3');
    expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('appends extra exposition text and reports a failing source as a comment instead of failing the scrape', async () => {
    const ok = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry: registryWithCounter(),
      extra: () => Promise.resolve('temporal_extra_total 7\n'),
    });
    const failing = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry: registryWithCounter(),
      extra: () => Promise.reject(new Error('sdk endpoint down')),
    });
    servers.push(ok, failing);
    expect(await (await fetch(ok.url)).text()).toMatch(/notify_test_total 3[\s\S]*temporal_extra_total 7/);
    const res = await fetch(failing.url);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('notify_test_total 3');
    expect(body).toContain('# extra metrics unavailable: sdk endpoint down');
  });

  it('names the setting to change when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(startMetricsServer({ host: '127.0.0.1', port, registry: new Registry() })).rejects.toThrow(
        `Metrics port ${port} on 127.0.0.1 is in use: choose another *_METRICS_PORT, or 0`,
      );
    } finally {
      blocker.close();
    }
  });
});

describe('an entry point metrics listener', () => {
  it('warns and runs on without metrics when its port is taken, instead of failing the process', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write: (chunk: Buffer, _e, done) => {
          lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      }),
    );
    const first = await startMetricsServerOrWarn(
      { host: '127.0.0.1', port: 0, registry: registryWithCounter() },
      logger,
      'WORKER_METRICS_PORT',
    );
    expect(first).toBeDefined();
    if (first === undefined) return;
    servers.push(first);
    const second = await startMetricsServerOrWarn(
      { host: '127.0.0.1', port: first.port, registry: registryWithCounter() },
      logger,
      'WORKER_METRICS_PORT',
    );
    expect(second).toBeUndefined();
    expect(lines.at(-1)?.msg).toBe('metrics listener disabled: set WORKER_METRICS_PORT to a free port (0 = off)');
    expect((await fetch(first.url)).status).toBe(200);
  });
});

describe('tracing settings', () => {
  it('parses OTLP headers and rejects an entry without a value', () => {
    expect(parseOtlpHeaders('api-key=abc%3D%3D, x-team = ops')).toEqual({ 'api-key': 'abc==', 'x-team': 'ops' });
    expect(parseOtlpHeaders(undefined)).toEqual({});
    expect(() => parseOtlpHeaders('api-key')).toThrow(ConfigError);
    expect(() => parseOtlpHeaders('api-key')).toThrow(/OTEL_EXPORTER_OTLP_HEADERS: "api-key" is not key=value/);
  });

  it('exports spans over OTLP/HTTP to the configured endpoint with the configured headers', async () => {
    const received: Array<{ url: string; headers: Record<string, unknown>; body: string }> = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const tracing = setupTracing({
      serviceName: 'notify-otlp-test',
      otlpEndpoint: endpoint,
      otlpHeaders: { 'x-api-key': 'k1' },
    });
    try {
      expect(tracing.enabled).toBe(true);
      tracing.tracer.startSpan('otlp-export-check').end();
      await tracing.forceFlush();
      expect(received).toHaveLength(1);
      expect(received[0]?.url).toBe('/v1/traces');
      expect(received[0]?.headers['x-api-key']).toBe('k1');
      expect(received[0]?.body).toContain('otlp-export-check');
      expect(received[0]?.body).toContain('notify-otlp-test');
    } finally {
      await tracing.shutdown();
      collector.close();
    }
  });

  it('stays off, registering nothing, without an endpoint or span processor', async () => {
    const tracing = setupTracing({ serviceName: 'notify-test' });
    expect(tracing.enabled).toBe(false);
    const span = tracing.tracer.startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    span.end();
    await tracing.shutdown();
  });
});
