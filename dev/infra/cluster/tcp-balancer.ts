import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/** A `host:port` pair. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Parses `host:port` (pure). */
export function parseEndpoint(text: string): Endpoint {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not a host:port: "${text}"`);
  return { host: text.slice(0, i), port };
}

/** A running balancer. */
export interface TcpBalancer {
  server: Server;
  /** Connections forwarded so far, per backend (`host:port`). */
  forwarded: Map<string, number>;
  close(): Promise<void>;
}

function tryConnect(backend: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: backend.host, port: backend.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * A layer-4 load balancer in front of the Temporal frontends, standing in for the one a real deployment has (a cloud
 * TCP load balancer, or a DNS name over the frontends): clients connect to one address; each new connection goes to
 * the next backend round-robin, skipping backends that refuse it. When a backend dies its connections close, the
 * client (gRPC) reconnects, and the connection lands on a live frontend. It forwards bytes only (no gRPC awareness).
 */
export async function startTcpBalancer(
  listen: Endpoint,
  backends: Endpoint[],
  connectTimeoutMs = 1_000,
): Promise<TcpBalancer> {
  if (backends.length === 0) throw new Error('no backends');
  let next = 0;
  const forwarded = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.pause();
    client.on('error', () => client.destroy());
    const start = next;
    next = (next + 1) % backends.length;
    void (async () => {
      for (let i = 0; i < backends.length; i++) {
        const backend = backends[(start + i) % backends.length] as Endpoint;
        try {
          const upstream = await tryConnect(backend, connectTimeoutMs);
          if (client.destroyed) {
            upstream.destroy();
            return;
          }
          sockets.add(upstream);
          const key = `${backend.host}:${backend.port}`;
          forwarded.set(key, (forwarded.get(key) ?? 0) + 1);
          upstream.on('error', () => upstream.destroy());
          upstream.once('close', () => {
            sockets.delete(upstream);
            client.destroy();
          });
          client.once('close', () => upstream.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
          return;
        } catch {
          // next backend
        }
      }
      client.destroy();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    server,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
