import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Reads a development secret from `file`, or creates it (mode 0600) with `generate()` when it is missing or fails
 * `isValid`. Creation is atomic (write a temporary file, hard-link it into place), so processes started together
 * (e.g. by `npm start`) all end up with the same secret.
 */
export function ensureSecretFile(
  file: string,
  generate: () => string,
  isValid: (value: string) => boolean = () => true,
): string {
  let replace = false;
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (isValid(existing)) return existing;
    replace = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${generate()}\n`, { mode: 0o600 });
  if (replace) {
    try {
      unlinkSync(file);
    } catch {
      // already replaced by a concurrent process
    }
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readFileSync(file, 'utf8').trim();
}
