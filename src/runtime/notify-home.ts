import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository (or image) root, resolved from this module's location (`src/runtime/notify-home.ts` → two levels
 * up), so the state folder does not depend on the working directory a command was started from.
 */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * The folder notify keeps local state in (development keys, and for the embedded infrastructure its binaries and
 * data): `<repo>/.notify` unless NOTIFY_HOME says otherwise; a relative NOTIFY_HOME is taken from the repo root.
 */
export function resolveNotifyHome(notifyHome?: string): string {
  const root = repoRoot();
  if (notifyHome === undefined) return join(root, '.notify');
  return isAbsolute(notifyHome) ? notifyHome : resolve(root, notifyHome);
}
