import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { SendContext } from '../../src/channels/types.js';

/**
 * Helpers shared by the channel tests (not used by production code): a send context shaped like the one the
 * delivery activity builds, and a logger that writes nothing.
 */

/** A fresh notification id in the gateway's format. */
export function testNotificationId(): string {
  return `ntf_${randomBytes(13).toString('hex')}`;
}

/** A send context for `channel`, with a unique notification id and `<notificationId>.<channel>` as idempotency key. */
export function sendContext(channel: string, overrides: Partial<SendContext> = {}): SendContext {
  const notificationId = overrides.notificationId ?? testNotificationId();
  return {
    notificationId,
    idempotencyKey: `${notificationId}.${channel}`,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** A logger that discards everything. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released), for "connection refused" tests. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
