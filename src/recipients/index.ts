/** Recipients: profiles, preferences, suppressions and quiet hours (PostgreSQL), resolved when a delivery runs. */
export { addressKeys, isAddressFailure, withoutSuppressed } from './addresses.js';
export type { PreferenceDefaults, Preferences } from './preferences.js';
export { acceptsDelivery } from './preferences.js';
export type { QuietHours } from './quiet-hours.js';
export { CLOCK_TIME, isValidTimeZone, quietUntil } from './quiet-hours.js';
export type {
  DeliveryResolution,
  Recipient,
  RecipientPatch,
  RecipientProfile,
  ResolveQuery,
  Suppression,
} from './store.js';
export { RecipientStore, VersionConflictError } from './store.js';
