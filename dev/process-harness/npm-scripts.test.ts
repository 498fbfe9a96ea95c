import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/runtime/notify-home.js';
import { freePorts, isPortFree } from './ports.js';

const scripts = (
  JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** The npm scripts that run until stopped: a SIGTERM to `npm run <name>` must reach the process itself. */
const LONG_RUNNING = ['start', 'infra', 'gateway', 'ingest', 'worker', 'sinks', 'bench', 'chaos'];

describe('npm scripts and SIGTERM', () => {
  it("replace npm's shell with the process (`exec`) for every long-running script, so npm's forwarded SIGTERM reaches it", () => {
    // Without `exec`, npm forwards SIGTERM to `sh -c …`, which dies and leaves the real process running as an orphan.
    for (const name of LONG_RUNNING) expect(scripts[name], name).toMatch(/^exec /);
  });

  it('stop `npm run sinks` completely when npm gets SIGTERM (a process manager stopping the service)', async () => {
    const [http, smtp, smtp2] = await freePorts(3);
    const npm = spawn('npm', ['run', '--silent', 'sinks'], {
      cwd: repoRoot(),
      env: {
        ...process.env,
        SINKS_HOST: '127.0.0.1',
        SINKS_HTTP_PORT: String(http),
        SINKS_SMTP_PORT: String(smtp),
        SINKS_SMTP2_PORT: String(smtp2),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (c: Buffer) => (output += c.toString()));
    npm.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    try {
      const startedBy = Date.now() + 60_000;
      while (!output.includes('dev sinks listening')) {
        if (Date.now() > startedBy) throw new Error(`the sinks did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await isPortFree(http!)).toBe(false);
      npm.kill('SIGTERM');
      await exited;
      // The sinks process (not only npm) must be gone: its ports free again.
      const stoppedBy = Date.now() + 15_000;
      while (!((await isPortFree(http!)) && (await isPortFree(smtp!)))) {
        if (Date.now() > stoppedBy) throw new Error(`the sinks kept running after npm got SIGTERM:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      npm.kill('SIGKILL');
    }
  }, 90_000);
});
