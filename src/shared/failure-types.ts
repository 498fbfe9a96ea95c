/**
 * Temporal failure types (the `type` of an `ApplicationFailure`) that the delivery activity raises and the workflow
 * reacts to. One list, so the activity's `type` and the workflow's `nonRetryableErrorTypes` cannot drift apart.
 * The names equal the class names of the channel errors (`src/channels/errors.ts`), which keeps histories written
 * before this constant existed replayable. Pure (workflow code imports it).
 */
export const FAILURE_TYPES = {
  /** Retrying cannot help (bad recipient, rejected credentials, 4xx): non-retryable. */
  permanent: 'PermanentDeliveryError',
  /** Retrying may help (5xx, network, timeouts, 408/429): retried by the channel's retry policy. */
  transient: 'TransientDeliveryError',
  /** A thrown value that is not an `Error`: retried (losing a notification is worse than a retry). */
  unknown: 'UnknownError',
} as const;

/** One of the failure type names above. */
export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];
