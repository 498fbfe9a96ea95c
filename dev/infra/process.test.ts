import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/infra.js';
import {
  isProcessAlive,
  readPidFile,
  runningPid,
  runStreaming,
  spawnDetached,
  stopProcess,
  withLock,
} from './process.js';

const dir = tempDir('process');
const spawned: number[] = [];

afterAll(() => {
  for (const pid of spawned) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

async function startSleeper(name: string, script: string): Promise<{ pid: number; pidFile: string; marker: string }> {
  const pidFile = join(dir, `${name}.pid`);
  // The marker is part of the command line, as the db file / server.properties path is for the real servers.
  const marker = `notify-test-${name}`;
  const pid = await spawnDetached({
    command: 'sh',
    args: ['-c', script, marker],
    cwd: dir,
    logFile: join(dir, `${name}.log`),
    pidFile,
  });
  spawned.push(pid);
  return { pid, pidFile, marker };
}

describe('stopProcess', () => {
  it('stops a detached process with SIGTERM and removes its pid file; a second stop is a no-op', async () => {
    const p = await startSleeper('term', 'sleep 60');
    expect(readPidFile(p.pidFile)).toBe(p.pid);
    expect(runningPid(p.pidFile, p.marker)).toBe(p.pid);
    expect(await stopProcess(p.pidFile, { marker: p.marker })).toBe('stopped');
    expect(isProcessAlive(p.pid)).toBe(false);
    expect(existsSync(p.pidFile)).toBe(false);
    expect(await stopProcess(p.pidFile, { marker: p.marker })).toBe('not-running');
  });

  it('sends SIGKILL to a process that ignores SIGTERM', async () => {
    const p = await startSleeper('stubborn', 'trap "" TERM; echo $((40 + 2))-trapped; sleep 60');
    // Signal only once the shell ignores SIGTERM (it inherits to `sleep`), else the test races the trap.
    for (let i = 0; i < 250 && !readFileSync(join(dir, 'stubborn.log'), 'utf8').includes('42-trapped'); i++)
      await sleep(20);
    expect(await stopProcess(p.pidFile, { marker: p.marker, timeoutMs: 500 })).toBe('killed');
    expect(isProcessAlive(p.pid)).toBe(false);
  });

  it('never signals a live process whose command line does not match (a reused pid)', async () => {
    const p = await startSleeper('foreign', 'sleep 60');
    expect(await stopProcess(p.pidFile, { marker: 'some-other-server.properties' })).toBe('not-running');
    expect(isProcessAlive(p.pid)).toBe(true);
    expect(existsSync(p.pidFile)).toBe(false); // the stale record is dropped
    process.kill(-p.pid, 'SIGKILL');
  });

  it('treats a pid file of a dead process as stale', async () => {
    const pidFile = join(dir, 'dead.pid');
    const p = await startSleeper('dead', 'exit 0');
    for (let i = 0; i < 100 && isProcessAlive(p.pid); i++) await sleep(20);
    writeFileSync(pidFile, `${p.pid}\n`);
    expect(runningPid(pidFile, p.marker)).toBeUndefined();
    expect(existsSync(pidFile)).toBe(false);
  });
});

describe('runStreaming', () => {
  it('forwards output lines and reports the exit code with the last lines on failure', async () => {
    const lines: string[] = [];
    await expect(
      runStreaming('sh', ['-c', 'echo building; echo broken >&2; exit 3'], { log: (l) => lines.push(l), label: 'job' }),
    ).rejects.toThrow(/job failed \(exit code 3\)[\s\S]*broken/);
    expect(lines).toEqual(expect.arrayContaining(['job: building', 'job: broken']));
  });

  it('rejects with ENOENT when the command is not installed', async () => {
    await expect(
      runStreaming('notify-no-such-command', [], { log: () => undefined, label: 'x' }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('withLock', () => {
  it('lets only one holder in at a time and releases the lock afterwards', async () => {
    const lockDir = join(dir, 'lock');
    let inside = 0;
    let maxInside = 0;
    const holder = async (): Promise<void> => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(100);
      inside--;
    };
    await Promise.all([
      withLock(lockDir, () => undefined, holder),
      withLock(lockDir, () => undefined, holder),
      withLock(lockDir, () => undefined, holder),
    ]);
    expect(maxInside).toBe(1);
    expect(existsSync(lockDir)).toBe(false);
  });

  it('takes over a lock left behind by a dead process', async () => {
    const lockDir = join(dir, 'stale-lock');
    const dead = await startSleeper('lock-owner', 'exit 0');
    for (let i = 0; i < 100 && isProcessAlive(dead.pid); i++) await sleep(20);
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'owner'), `${dead.pid}\n`);
    expect(
      await withLock(
        lockDir,
        () => undefined,
        () => Promise.resolve('got it'),
        5_000,
      ),
    ).toBe('got it');
  });
});
