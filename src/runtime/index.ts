/** Process-level helpers shared by every entry point (Node-only; not for workflow code). */
export { onShutdown } from './shutdown.js';
export { ensureConfiguredTopics, runEntryPoint } from './entry-point.js';
export type { EntryPointContext } from './entry-point.js';
export { ensureSecretFile } from './secret-file.js';
export { withTimeout } from './with-timeout.js';
export { repoRoot, resolveNotifyHome } from './notify-home.js';
