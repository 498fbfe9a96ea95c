/** Activities: the only place where workflow decisions meet provider I/O. */
export { createActivities, toFailure } from './create-activities.js';
export type { ActivityDeps, ChannelActivities, DeliverActivityResult } from './create-activities.js';
export { createEventActivities } from './event-activities.js';
export type { EventActivities, EventActivityDeps } from './event-activities.js';
export { createDigestActivities } from './digest-activities.js';
export type { DigestActivities, DigestActivityDeps } from './digest-activities.js';
