/**
 * Typed delivery errors. Every sender throws one of these (never a bare Error for a provider outcome) so the
 * activity layer can tell Temporal whether to retry: permanent failures become non-retryable
 * `ApplicationFailure`s, transient ones are retried, with `retryAfterMs` honoured as the next retry delay.
 */

/** Base class: a delivery failed. `permanent` says whether retrying can ever help. */
export abstract class DeliveryError extends Error {
  abstract readonly permanent: boolean;
  /** Provider's HTTP status or SMTP reply code, when there was one. */
  readonly code?: number;
  /** Name of the provider that failed (set by the failover sender; see failover.ts). */
  readonly provider?: string;

  constructor(message: string, options?: { code?: number; cause?: unknown; provider?: string }) {
    super(message, { cause: options?.cause });
    this.name = new.target.name;
    this.code = options?.code;
    this.provider = options?.provider;
  }
}

/**
 * Whom a permanent failure is about. `request`: the recipient or the message itself (invalid number, rejected
 * mailbox, content refused) — another provider would refuse it too, so there is no failover. `provider`: this
 * provider or its configuration (credentials rejected, account suspended, TLS refused, endpoint unknown) — the next
 * provider of the channel may well send it.
 */
export type PermanentFault = 'request' | 'provider';

/** Retrying cannot help: invalid recipient, rejected credentials or configuration, 4xx other than 408/429. */
export class PermanentDeliveryError extends DeliveryError {
  readonly permanent = true;
  /** `request` (the default) or `provider`: decides whether a channel with several providers fails over. */
  readonly fault: PermanentFault;

  constructor(
    message: string,
    options?: { code?: number; cause?: unknown; provider?: string; fault?: PermanentFault },
  ) {
    super(message, options);
    this.fault = options?.fault ?? 'request';
  }
}

/** Retrying may help: 5xx, network errors, timeouts, 408, 429. `retryAfterMs` carries a provider's Retry-After. */
export class TransientDeliveryError extends DeliveryError {
  readonly permanent = false;
  readonly retryAfterMs?: number;

  constructor(message: string, options?: { code?: number; cause?: unknown; retryAfterMs?: number; provider?: string }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * Parses an HTTP `Retry-After` header (delta-seconds or HTTP-date) into milliseconds from `now`.
 * Returns undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Classifies an HTTP response status the way every HTTP-based channel must:
 * 408, 429 and 5xx are transient; any other 4xx is permanent.
 */
export function errorForHttpStatus(status: number, message: string, retryAfter?: string | null): DeliveryError {
  if (status === 408 || status === 429 || status >= 500) {
    return new TransientDeliveryError(message, { code: status, retryAfterMs: parseRetryAfter(retryAfter) });
  }
  return new PermanentDeliveryError(message, { code: status });
}

/**
 * Marks a permanent HTTP failure as the provider's own (credentials or account refused, endpoint unknown) when its
 * status is one of `providerStatuses`; other errors are returned unchanged. Provider-specific: Twilio answers 401/403
 * for credentials and 404 for an unknown account, while a webhook's 404 is about the caller's URL.
 */
export function asProviderFault(err: unknown, providerStatuses: readonly number[]): unknown {
  if (err instanceof PermanentDeliveryError && err.code !== undefined && providerStatuses.includes(err.code))
    return new PermanentDeliveryError(err.message, { code: err.code, cause: err.cause, fault: 'provider' });
  return err;
}
