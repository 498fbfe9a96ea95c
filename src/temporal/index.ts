/** Temporal client plumbing shared by the gateway, ingest and workers. */
export { connectTemporal } from './connect.js';
export type { TemporalClientOptions } from './connect.js';
export { NotificationClient } from './notification-client.js';
export type { NotificationLookup, NotificationMemo, StartOutcome } from './notification-client.js';
export { ensureNamespace, waitForTemporalHealth } from './namespace-setup.js';
export type { NamespaceSetupOptions, NamespaceSetupResult } from './namespace-setup.js';
