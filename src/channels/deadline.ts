import { TransientDeliveryError } from './errors.js';

/**
 * One send attempt's time budget: aborts when the sender's own timeout elapses or when the caller's signal
 * (activity cancellation, worker shutdown) fires, whichever comes first. Every sender runs its provider call under
 * one of these so that no attempt can outlive its timeout and a cancelled activity stops promptly.
 */
export interface Deadline {
  /** Aborted on timeout or when the parent signal aborts; pass it to `fetch` and SDKs. */
  readonly signal: AbortSignal;
  /** The transient error describing why the deadline fired (timeout or abort). Only meaningful once aborted. */
  error(cause?: unknown): TransientDeliveryError;
  /** Clears the timer and the listener on the parent signal. Always call it (in `finally`). */
  dispose(): void;
}

/**
 * Starts a deadline of `timeoutMs` linked to `parent`. `what` names the operation in error messages
 * (e.g. "SMTP send to smtp.example.com:587").
 */
export function startDeadline(timeoutMs: number, parent: AbortSignal, what: string): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`${what} timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onParentAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    error(cause?: unknown) {
      if (timedOut) return new TransientDeliveryError(`${what} timed out after ${timeoutMs} ms`, { cause });
      const reason: unknown = parent.reason;
      const detail = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'no reason given';
      return new TransientDeliveryError(`${what} aborted by the caller (${detail})`, { cause: cause ?? reason });
    },
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}

/**
 * Settles with `work`, or rejects with the deadline's error as soon as the deadline fires. For libraries that take
 * no AbortSignal (nodemailer): the underlying operation is abandoned, not cancelled, so the library's own socket
 * timeouts must also be set.
 */
export async function raceDeadline<T>(deadline: Deadline, work: Promise<T>): Promise<T> {
  if (deadline.signal.aborted) {
    work.catch(() => undefined);
    throw deadline.error();
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(deadline.error());
    deadline.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort !== undefined) deadline.signal.removeEventListener('abort', onAbort);
    // The abandoned operation may still fail later; that outcome is already reported as the deadline's error.
    work.catch(() => undefined);
  }
}
