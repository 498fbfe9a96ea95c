import type { Logger } from 'pino';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreaker, CircuitBreakerSettings, CircuitState } from './circuit-breaker.js';
import { DeliveryError, PermanentDeliveryError, TransientDeliveryError } from './errors.js';
import type { ChannelSender, SendContext, SendResult } from './types.js';

/** One provider of a channel: a name (status, metrics, logs) and the sender that makes one call to it. */
export interface NamedProvider<TTo, TContent> {
  name: string;
  sender: ChannelSender<TTo, TContent>;
}

/** Options of `createFailoverSender`. */
export interface FailoverOptions {
  /** Circuit breaker settings, one breaker per provider (used only when there are two providers or more). */
  circuit: CircuitBreakerSettings;
  logger: Logger;
  /** Clock for the breakers (tests). */
  now?: () => number;
}

/** A failover sender always tells the state of its providers' circuits (for logs, metrics and tests). */
export interface FailoverSender<TTo, TContent> extends ChannelSender<TTo, TContent> {
  circuits(): Record<string, CircuitState>;
}

/** Whether an error from one provider means the next provider should be tried. */
export function shouldFailOver(err: unknown): boolean {
  if (err instanceof PermanentDeliveryError) return err.fault === 'provider';
  // Transient errors and anything unexpected (a bug, a library failure): the next provider may well succeed.
  return true;
}

function withProvider(err: unknown, provider: string): unknown {
  if (err instanceof PermanentDeliveryError)
    return new PermanentDeliveryError(err.message, { code: err.code, cause: err.cause, fault: err.fault, provider });
  if (err instanceof TransientDeliveryError)
    return new TransientDeliveryError(err.message, {
      code: err.code,
      cause: err.cause,
      retryAfterMs: err.retryAfterMs,
      provider,
    });
  return err;
}

/**
 * A channel sender over an ordered list of providers. One `send` is still **one** activity attempt (Temporal owns the
 * retries): it tries the providers in order, skipping those whose circuit is open, and stops at the first that
 * accepts (its name is returned as `provider`) or at the first *request* error (a permanent error about the recipient
 * or the message: another provider would refuse it too, so the delivery fails without trying the next). A transient
 * error, an unexpected error or a permanent *provider* error (credentials refused…) moves on to the next provider.
 *
 * When every provider failed, the attempt fails: transient if any provider failed transiently (Temporal retries,
 * from the first provider again, after the retry policy's delay or the smallest Retry-After), permanent when every
 * one refused permanently. When every circuit is open no call is made and the attempt fails transiently with the
 * time until the first probe as Retry-After. The notification's idempotency key / Message-ID is the same on every
 * provider, so a duplicate after a lost answer (provider A accepted, the answer was lost, provider B sent again) is
 * traceable.
 *
 * With a single provider there is nothing to fail over to: no breaker, the provider's error passes unchanged.
 */
export function createFailoverSender<TTo, TContent>(
  providers: readonly NamedProvider<TTo, TContent>[],
  options: FailoverOptions,
): FailoverSender<TTo, TContent> {
  const first = providers[0];
  if (first === undefined) throw new Error('a channel needs at least one provider');
  const names = new Set(providers.map((p) => p.name));
  if (names.size !== providers.length)
    throw new Error(`provider names must be unique: ${providers.map((p) => p.name).join(', ')}`);
  const breakers = new Map<string, CircuitBreaker>(
    providers.map((p) => [p.name, createCircuitBreaker(options.circuit, options.now)]),
  );

  const call = async (
    provider: NamedProvider<TTo, TContent>,
    message: { to: TTo; content: TContent },
    ctx: SendContext,
  ): Promise<SendResult> => {
    const started = performance.now();
    try {
      const result = await provider.sender.send(message, ctx);
      ctx.onProviderAttempt?.({ provider: provider.name, result: 'sent', durationMs: performance.now() - started });
      return { ...result, provider: provider.name };
    } catch (err) {
      const result = err instanceof PermanentDeliveryError ? 'permanent' : 'transient';
      ctx.onProviderAttempt?.({ provider: provider.name, result, durationMs: performance.now() - started });
      throw withProvider(err, provider.name);
    }
  };

  if (providers.length === 1) {
    return {
      send: (message, ctx) => call(first, message, ctx),
      close: () => first.sender.close(),
      circuits: () => ({ [first.name]: 'closed' }),
    };
  }

  return {
    async send(message, ctx): Promise<SendResult> {
      const failures: Array<{ provider: string; error: unknown }> = [];
      for (const provider of providers) {
        const breaker = breakers.get(provider.name) as CircuitBreaker;
        if (!breaker.tryAcquire()) continue;
        if (ctx.signal.aborted) {
          breaker.release();
          break;
        }
        try {
          const result = await call(provider, message, ctx);
          breaker.success();
          if (failures.length > 0)
            options.logger.warn(
              {
                notificationId: ctx.notificationId,
                provider: provider.name,
                failedOver: failures.map((f) => f.provider),
              },
              'delivered by a later provider after failover',
            );
          return result;
        } catch (err) {
          if (ctx.signal.aborted) {
            // Cancelled or shutting down: says nothing about the provider, and no other provider should start now.
            breaker.release();
            throw err;
          }
          if (!shouldFailOver(err)) {
            // The provider answered properly: it works. The recipient or message is at fault; no failover.
            breaker.success();
            throw err;
          }
          breaker.failure();
          failures.push({ provider: provider.name, error: err });
          options.logger.warn(
            {
              notificationId: ctx.notificationId,
              provider: provider.name,
              circuit: breaker.state(),
              err: { message: err instanceof Error ? err.message : String(err) },
            },
            'provider failed; trying the next one',
          );
        }
      }
      throw aggregate(failures, providers, breakers, ctx);
    },
    async close() {
      await Promise.all(providers.map((p) => p.sender.close()));
    },
    circuits: () => Object.fromEntries([...breakers].map(([name, b]) => [name, b.state()])),
  };
}

/** The attempt's error when no provider sent: see `createFailoverSender`. */
function aggregate<TTo, TContent>(
  failures: ReadonlyArray<{ provider: string; error: unknown }>,
  providers: readonly NamedProvider<TTo, TContent>[],
  breakers: ReadonlyMap<string, CircuitBreaker>,
  ctx: SendContext,
): DeliveryError {
  const skipped = providers.filter((p) => !failures.some((f) => f.provider === p.name)).map((p) => p.name);
  const skippedText = skipped.length > 0 ? `; circuit open: ${skipped.join(', ')}` : '';
  if (failures.length === 0) {
    if (ctx.signal.aborted)
      return new TransientDeliveryError('send aborted by the caller before any provider was called');
    const waitMs = Math.min(...providers.map((p) => (breakers.get(p.name) as CircuitBreaker).msUntilProbe()));
    return new TransientDeliveryError(
      `no provider called: every provider's circuit is open (${skipped.join(', ')}); next probe in ${waitMs} ms`,
      { retryAfterMs: Math.max(waitMs, 1) },
    );
  }
  const text = failures
    .map((f) => `${f.provider}: ${f.error instanceof Error ? f.error.message : String(f.error)}`)
    .join('; ');
  const last = failures[failures.length - 1] as { provider: string; error: unknown };
  const transient = failures.filter((f) => !(f.error instanceof PermanentDeliveryError));
  if (transient.length === 0) {
    const code = last.error instanceof DeliveryError ? last.error.code : undefined;
    return new PermanentDeliveryError(`every provider refused: ${text}${skippedText}`, {
      code,
      cause: last.error,
      fault: 'provider',
      provider: last.provider,
    });
  }
  const retryAfters = transient
    .map((f) => (f.error instanceof TransientDeliveryError ? f.error.retryAfterMs : undefined))
    .filter((ms): ms is number => ms !== undefined);
  const lastTransient = transient[transient.length - 1] as { provider: string; error: unknown };
  return new TransientDeliveryError(`every provider failed: ${text}${skippedText}`, {
    code: lastTransient.error instanceof DeliveryError ? lastTransient.error.code : undefined,
    cause: lastTransient.error,
    retryAfterMs: retryAfters.length === transient.length ? Math.min(...retryAfters) : undefined,
    provider: lastTransient.provider,
  });
}
