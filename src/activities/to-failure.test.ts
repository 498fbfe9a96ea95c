import { describe, expect, it } from 'vitest';
import { PermanentDeliveryError, TransientDeliveryError } from '../channels/errors.js';
import { FAILURE_TYPES } from '../shared/failure-types.js';
import { PERMANENT_FAILURE_TYPE } from '../workflows/notification-workflow.js';
import { toFailure } from './create-activities.js';

describe('toFailure', () => {
  it('turns a permanent delivery error into a non-retryable failure of the shared permanent type', () => {
    const failure = toFailure(new PermanentDeliveryError('no such mailbox', { code: 550 }), 3);
    expect(failure.type).toBe(FAILURE_TYPES.permanent);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ attempt: 3, code: 550 }]);
  });

  it('turns a transient delivery error into a retryable failure that honours Retry-After', () => {
    const failure = toFailure(new TransientDeliveryError('busy', { code: 429, retryAfterMs: 2_000 }), 1);
    expect(failure.type).toBe(FAILURE_TYPES.transient);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(2_000);
  });

  it('uses the names the workflow treats as non-retryable, which are the channel error class names', () => {
    expect(PERMANENT_FAILURE_TYPE).toBe(FAILURE_TYPES.permanent);
    // Histories recorded before the shared constant carry the class names: they must stay equal.
    expect(new PermanentDeliveryError('x').name).toBe(FAILURE_TYPES.permanent);
    expect(new TransientDeliveryError('x').name).toBe(FAILURE_TYPES.transient);
  });
});
