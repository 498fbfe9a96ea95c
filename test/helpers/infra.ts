import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickFreePort } from '../../dev/infra/process.js';

/** A free port for a private server in a test (see `pickFreePort`: below the ephemeral range). */
export function freePort(): Promise<number> {
  return pickFreePort();
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A fresh temporary directory named after `label`. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `notify-${label}-`));
}
