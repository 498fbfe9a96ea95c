import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Free ports for private servers in tests: the tooling's one implementation (below the ephemeral range). */
export { freePort, freePorts } from '../../dev/process-harness/index.js';

/** A fresh temporary directory named after `label`. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `notify-${label}-`));
}
