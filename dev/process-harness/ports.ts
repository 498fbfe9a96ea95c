import { createServer } from 'node:net';

/** Whether nothing listens on `host:port` (tries to bind it). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

/** Ports private servers (tests, chaos, bench) pick from: below Linux's ephemeral range (32768+). */
const PRIVATE_PORT_RANGE = { min: 12_000, max: 19_999 };

/**
 * A TCP port on `host` that nothing listens on, for a private server (test, chaos, bench) that binds it a moment
 * later. Chosen at random below the ephemeral range: a port the OS hands out (listen(0)) is ephemeral, and any
 * outgoing connection may take it before the server binds it.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port =
      PRIVATE_PORT_RANGE.min + Math.floor(Math.random() * (PRIVATE_PORT_RANGE.max - PRIVATE_PORT_RANGE.min + 1));
    if (await isPortFree(port, host)) return port;
  }
  throw new Error(`no free port found in ${PRIVATE_PORT_RANGE.min}-${PRIVATE_PORT_RANGE.max}`);
}

/** `count` distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
