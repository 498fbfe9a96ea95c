import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresServerOptions } from '../../dev/infra/postgres.js';
import {
  ensureDatabase,
  ensurePostgresBinaries,
  postgresUrl,
  startPostgres,
  stopPostgres,
} from '../../dev/infra/postgres.js';
import { resolveInfraPaths } from '../../dev/infra/paths.js';
import { freePort, tempDir } from '../helpers/infra.js';
import { eventually } from '../helpers/kafka.js';
import { startPipeline } from '../helpers/pipeline.js';
import type { Pipeline } from '../helpers/pipeline.js';

/**
 * PostgreSQL stopped mid-run and started again: the gateway keeps accepting (explicit addresses and, since the
 * recipient check cannot run, recipient sends too), deliveries wait with status `waitingFor: recipient-database`,
 * and after the restart every accepted notification is delivered exactly once. A private server, so the shared one
 * other test files use is never stopped.
 */
const log = (line: string) => console.log(`[postgres-restart] ${line}`);
let server: PostgresServerOptions;
let p: Pipeline;

beforeAll(async () => {
  const binDir = await ensurePostgresBinaries({ dir: resolveInfraPaths().postgresDir, log });
  const dir = tempDir('pg-restart');
  chmodSync(dir, 0o755); // the server may run as an unprivileged user (see dev/infra/postgres.ts)
  server = {
    binDir,
    dataDir: join(dir, 'data'),
    port: await freePort(),
    passwordFile: join(dir, 'password'),
    pidFile: join(dir, 'pid'),
    logFile: join(dir, 'log'),
  };
  await startPostgres(server, log);
  await ensureDatabase(postgresUrl(server), 'notify');
  // A retry budget that outlasts the outage (the channel's own policy applies to resolution, as in production).
  p = await startPipeline({
    databaseUrl: postgresUrl(server, 'notify'),
    env: {
      EMAIL_RETRY_MAX_ATTEMPTS: '200',
      EMAIL_RETRY_MAX_INTERVAL_MS: '1000',
      SMS_RETRY_MAX_ATTEMPTS: '200',
      SMS_RETRY_MAX_INTERVAL_MS: '1000',
    },
  });
});

afterAll(async () => {
  await p?.close();
  if (server !== undefined) await stopPostgres(server, log);
});

const content = { subject: 'Restart', text: 'PostgreSQL restarted' };

describe('PostgreSQL restart mid-run', () => {
  it('loses no accepted notification and delivers each exactly once after the database comes back', async () => {
    for (let i = 0; i < 5; i++) {
      expect(
        (await p.request('PUT', `/v1/recipients/r${i}`, { addresses: { email: `r${i}@example.com` } })).status,
      ).toBe(201);
    }
    const ids: string[] = [];
    const submit = async (body: unknown) => {
      const res = await p.post('/v1/notifications', body);
      expect(res.status).toBe(202);
      ids.push(String(res.body.id));
    };
    // Some before the outage (in flight when it starts)…
    for (let i = 0; i < 5; i++)
      await submit({ deliveries: [{ channel: 'email', to: `before${i}@example.com`, content }] });

    expect(await stopPostgres(server, log)).toBe('stopped');
    // …and some during it: explicit addresses and recipients alike are accepted.
    for (let i = 0; i < 5; i++)
      await submit({ deliveries: [{ channel: 'email', to: `during${i}@example.com`, content }] });
    for (let i = 0; i < 5; i++) await submit({ recipient: `r${i}`, deliveries: [{ channel: 'email', content }] });
    const down = await p.request('GET', '/v1/recipients/r0');
    expect(down.status).toBe(503);
    expect((down.body as { code: string }).code).toBe('DATABASE_UNAVAILABLE');

    // The status says why it waits.
    const last = ids[ids.length - 1] ?? '';
    await eventually(
      async () => (await p.status(last)).deliveries[0]?.waitingFor === 'recipient-database',
      'a delivery waiting for the database',
      60_000,
    );
    expect(p.sinks.received({ channel: 'email' }).filter((m) => ids.slice(5).includes(m.notificationId))).toHaveLength(
      0,
    );

    await startPostgres(server, log);
    for (const id of ids) await p.waitForStatus(id, 'sent', 90_000);
    for (const id of ids) expect(p.sinks.received({ notificationId: id }), id).toHaveLength(1);
    const profileTo = ids.slice(10).map((id) => [p.sinks.received({ notificationId: id })[0]?.to].flat().join(','));
    expect(profileTo.sort()).toEqual([
      'r0@example.com',
      'r1@example.com',
      'r2@example.com',
      'r3@example.com',
      'r4@example.com',
    ]);
  });
});
