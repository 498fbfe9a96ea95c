import { freePort } from '../../dev/process-harness/index.js';
import { execFile, spawn } from 'node:child_process';
import { createConnection } from 'node:net';

/**
 * Test helper: an SMTP server nobody in this project wrote (Debian's `python3-aiosmtpd`), to check the email sender
 * against an independent implementation. Installs the package with apt-get when it is missing; when that is
 * impossible it throws, naming the command to run, so the test fails loudly instead of being skipped.
 */

const PYTHON = '/usr/bin/python3';

function run(command: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, output: `${stdout}${stderr}`.trim() });
    });
  });
}

const importable = async () => (await run(PYTHON, ['-c', 'import aiosmtpd'], 30_000)).ok;

/** Makes sure `python3 -m aiosmtpd` works, installing `python3-aiosmtpd` (after `apt-get update` if needed). */
export async function ensureAiosmtpd(): Promise<void> {
  if (await importable()) return;
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'python3-aiosmtpd'], 300_000);
  let attempt = await install();
  if (!attempt.ok) {
    const update = await run('apt-get', ['update'], 300_000);
    attempt = await install();
    if (!attempt.ok) attempt = { ok: false, output: `${update.output.slice(-500)}\n${attempt.output}` };
  }
  if (!attempt.ok || !(await importable())) {
    throw new Error(
      `python3-aiosmtpd is required by this test and could not be installed automatically.\n` +
        `Install it with: apt-get update && apt-get install -y python3-aiosmtpd\napt-get said:\n${attempt.output.slice(-1500)}`,
    );
  }
}

const canConnect = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** A running aiosmtpd (its default handler prints each received message to stdout). */
export interface AiosmtpdServer {
  host: string;
  port: number;
  /** Everything the server printed so far. */
  output(): string;
  /** Resolves once the output contains `text`; rejects after `timeoutMs` with the output so far. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `python3 -m aiosmtpd -n -l 127.0.0.1:<free port>` and waits until it accepts connections. */
export async function startAiosmtpd(): Promise<AiosmtpdServer> {
  await ensureAiosmtpd();
  const host = '127.0.0.1';
  const port = await freePort(host);
  // -u: unbuffered, so printed messages reach us while the server runs.
  const child = spawn(PYTHON, ['-u', '-m', 'aiosmtpd', '-n', '-l', `${host}:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 20_000;
  while (!(await canConnect(host, port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`aiosmtpd did not start on ${host}:${port}; output:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    port,
    output: () => output,
    async waitForOutput(text, timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (!output.includes(text)) {
        if (Date.now() > until)
          throw new Error(`aiosmtpd output does not contain ${JSON.stringify(text)}; output:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
