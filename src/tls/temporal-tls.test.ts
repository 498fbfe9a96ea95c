import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../test/helpers/context.js';
import { quietTemporalRuntime } from '../../test/helpers/quiet-runtime.js';
import { loadConfig } from '../config/config.js';
import { connectTemporal } from '../temporal/connect.js';
import { NotificationClient } from '../temporal/notification-client.js';
import { createWorkflowWorker } from '../workers/create-workers.js';
import { QUERY_STATUS } from '../shared/notification.js';
import type { NotificationState, NotificationWorkflowInput } from '../shared/notification.js';
import { createTestCertificates } from '../../test/helpers/test-certificates.js';
import type { TestCertificates } from '../../test/helpers/test-certificates.js';
import { temporalTlsFromConfig } from './transport-security.js';

/**
 * Temporal over mutual TLS. The dev server has no TLS listener, so a TLS front (Node `tls`, client certificates
 * required, ALPN h2) terminates TLS and forwards the gRPC stream to the shared dev server — like a TLS-terminating load
 * balancer in front of a Temporal frontend. The client (`connectTemporal`) and the worker's `NativeConnection` connect
 * through it with the settings `temporalTlsFromConfig` builds from TEMPORAL_TLS_*.
 */
const t = testEnvironment();
let dir: string;
let certs: TestCertificates;
let front: TlsServer;
let address: string;
const sockets = new Set<TLSSocket>();

beforeAll(async () => {
  quietTemporalRuntime();
  dir = mkdtempSync(join(tmpdir(), 'notify-temporal-tls-'));
  certs = createTestCertificates(dir);
  const [upstreamHost, upstreamPort] = t.temporalAddress.split(':');
  front = createTlsServer(
    {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      ca: readFileSync(certs.caCert),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      sockets.add(socket);
      const upstream = netConnect(Number(upstreamPort), upstreamHost ?? '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        sockets.delete(socket);
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    },
  );
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => front?.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function tlsSettings(env: Record<string, string>) {
  return temporalTlsFromConfig(
    loadConfig({
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_CA_FILE: certs.caCert,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      ...env,
    }),
  );
}

describe('Temporal over mutual TLS', () => {
  it('starts a notification workflow through the TLS client and runs it on a worker connected over TLS', async () => {
    const tls = tlsSettings({ TEMPORAL_TLS_CERT_FILE: certs.clientCert, TEMPORAL_TLS_KEY_FILE: certs.clientKey });
    const { client, connection } = await connectTemporal({
      address,
      namespace: t.namespace,
      tls,
      connectTimeoutMs: 5_000,
    });
    const workerConnection = await NativeConnection.connect({ address, tls });
    let worker: Worker | undefined;
    let running: Promise<void> | undefined;
    const id = `ntf_${t.prefix}tls`;
    try {
      worker = await createWorkflowWorker({
        connection: workerConnection,
        namespace: t.namespace,
        taskQueuePrefix: t.prefix,
        maxConcurrentWorkflowTaskExecutions: 5,
        maxCachedWorkflows: 10,
        shutdownGraceTimeMs: 500,
      });
      running = worker.run();
      const input: NotificationWorkflowInput = {
        id,
        clientId: 'anonymous',
        // Scheduled an hour ahead: the worker's first workflow task marks it `scheduled`, which the query then reads.
        request: {
          routing: 'all',
          sendAt: new Date(Date.now() + 3_600_000).toISOString(),
          deliveries: [{ channel: 'email', to: 'tls@example.com', content: { subject: 's', text: 't' } }],
        },
        acceptedAt: new Date().toISOString(),
        taskQueuePrefix: t.prefix,
        retryPolicies: {},
        awaitRetryMs: 60_000,
      };
      expect(
        await new NotificationClient(client, { taskQueuePrefix: t.prefix }).start(input, {
          bodyHash: 'h',
          clientId: 'anonymous',
        }),
      ).toBe('started');
      const state = await client.workflow.getHandle(id).query<NotificationState>(QUERY_STATUS);
      expect(state.status).toBe('scheduled');
    } finally {
      await client.workflow
        .getHandle(id)
        .terminate('tls test done')
        .catch(() => undefined);
      worker?.shutdown();
      await running?.catch(() => undefined);
      await workerConnection.close();
      await connection.close();
    }
  });

  it('is refused without a client certificate and with a certificate of another CA', async () => {
    await expect(
      connectTemporal({ address, namespace: t.namespace, tls: tlsSettings({}), connectTimeoutMs: 3_000 }),
    ).rejects.toThrow(/Cannot reach Temporal at .* \(TEMPORAL_ADDRESS\)/);
    const stranger = tlsSettings({
      TEMPORAL_TLS_CERT_FILE: certs.strangerCert,
      TEMPORAL_TLS_KEY_FILE: certs.strangerKey,
    });
    await expect(
      connectTemporal({ address, namespace: t.namespace, tls: stranger, connectTimeoutMs: 3_000 }),
    ).rejects.toThrow(/Cannot reach Temporal/);
  });

  it('refuses a server whose certificate the configured CA did not sign', async () => {
    const wrongCa = temporalTlsFromConfig(
      loadConfig({
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CA_FILE: join(dir, 'other-ca.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
        TEMPORAL_TLS_CERT_FILE: certs.clientCert,
        TEMPORAL_TLS_KEY_FILE: certs.clientKey,
      }),
    );
    await expect(
      connectTemporal({ address, namespace: t.namespace, tls: wrongCa, connectTimeoutMs: 3_000 }),
    ).rejects.toThrow(/Cannot reach Temporal/);
  });
});
