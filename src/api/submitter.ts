import { sealRequest } from '../crypto/envelope-sealing.js';
import { BODY_HASH_PURPOSE, BodyHasher, canonicalJson, encodeEnvelope } from '../kafka/envelope.js';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import { ENVELOPE_VERSION } from '../shared/notification.js';
import type { NotificationRequest } from '../shared/notification.js';
import type { AcceptanceCache } from './acceptance-cache.js';
import { ApiError } from './errors.js';
import { idFromIdempotencyKey, newNotificationId } from './ids.js';
import type { GatewayDeps } from './types.js';

/** Outcome of one accepted submission. */
export interface Accepted {
  id: string;
  /** True when this answered a repeat of an earlier request with the same idempotency key and body. */
  replay: boolean;
}

/**
 * Accepts notifications: derives the id, detects idempotent replays and conflicting key reuse, writes the envelope to
 * Kafka and resolves only once Kafka acknowledged it. Concurrent requests with the same key share one write.
 */
export class Submitter {
  /** Per keyed id: the lookup-then-write in progress, resolving to the accepted body's hash and whether it wrote. */
  private readonly inFlight = new Map<string, Promise<{ bodyHash: string; written: boolean }>>();
  private readonly hasher: BodyHasher;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly cache: AcceptanceCache,
  ) {
    this.hasher = new BodyHasher(deps.payloadKeyring?.derivedKeys(BODY_HASH_PURPOSE));
  }

  async submit(
    clientId: string,
    idempotencyKey: string | undefined,
    request: NotificationRequest,
    traceparent?: string,
  ): Promise<Accepted> {
    // Encoded once: the same canonical JSON is hashed (keyed) and becomes the record's (sealed) payload.
    const requestJson = canonicalJson(request);
    const bodyHash = this.hasher.hashCanonical(requestJson);
    if (idempotencyKey === undefined) {
      const id = newNotificationId();
      await this.write(id, clientId, bodyHash, request, requestJson, traceparent);
      return { id, replay: false };
    }
    const id = idFromIdempotencyKey(clientId, idempotencyKey);
    const pending = this.inFlight.get(id);
    if (pending !== undefined) return this.replayOrConflict(id, (await pending).bodyHash, bodyHash, request);

    // Registered before the first await, so a concurrent request with the same key joins it instead of writing too.
    const attempt = (async () => {
      const known = await this.knownHash(id);
      if (known !== undefined) return { bodyHash: known, written: false };
      await this.write(id, clientId, bodyHash, request, requestJson, traceparent);
      return { bodyHash, written: true };
    })();
    this.inFlight.set(id, attempt);
    try {
      const outcome = await attempt;
      return outcome.written ? { id, replay: false } : this.replayOrConflict(id, outcome.bodyHash, bodyHash, request);
    } finally {
      this.inFlight.delete(id);
    }
  }

  private replayOrConflict(id: string, knownHash: string, bodyHash: string, request: NotificationRequest): Accepted {
    // Cheap path first; otherwise the known hash may be under a rotated-out key or a legacy plain hash.
    if (knownHash !== bodyHash && !this.hasher.matches(knownHash, request)) {
      throw new ApiError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used with a different request body; use a new key for a new notification.',
      );
    }
    return { id, replay: true };
  }

  /** Body hash of an earlier acceptance of this id: from this gateway's memory, else from the workflow's memo. */
  private async knownHash(id: string): Promise<string | undefined> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached.bodyHash;
    try {
      const memo = await this.deps.notifications.memo(id);
      return typeof memo?.bodyHash === 'string' ? memo.bodyHash : undefined;
    } catch (err) {
      // Temporal unreachable: accept anyway. Ingest dedups by workflow id, so a true replay still sends once.
      this.deps.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) }, notificationId: id },
        'idempotency lookup failed; relying on workflow-id dedup',
      );
      return undefined;
    }
  }

  private async write(
    id: string,
    clientId: string,
    bodyHash: string,
    request: NotificationRequest,
    requestJson: string,
    traceparent?: string,
  ): Promise<void> {
    const envelope: NotificationEnvelope = {
      v: ENVELOPE_VERSION,
      id,
      clientId,
      acceptedAt: new Date().toISOString(),
      bodyHash,
      request,
    };
    // Sealing and encoding stay outside the Kafka `try`: a failure there is a bug of ours (answered 500 and logged
    // with its real cause by the error handler), never "Kafka unavailable".
    const keyring = this.deps.payloadKeyring;
    const seal =
      keyring === undefined
        ? undefined
        : (notificationId: string, r: NotificationRequest, json?: string) =>
            sealRequest(keyring, notificationId, r, json);
    const presence = this.deps.webhookEndpoints?.presence;
    const answer = presence?.has(clientId) ?? true;
    const hasEndpoint = typeof answer === 'boolean' ? answer : await answer;
    const message = encodeEnvelope(envelope, traceparent, seal, requestJson, { withoutEvents: !hasEndpoint });
    try {
      await this.deps.producer.send(message);
    } catch (err) {
      this.deps.logger.warn(
        { notificationId: id, err: { message: err instanceof Error ? err.message : String(err) } },
        'kafka write failed; answering 503',
      );
      throw new ApiError(
        503,
        'KAFKA_UNAVAILABLE',
        'Kafka did not confirm the write in time, so the notification may or may not have been stored; retry with the same Idempotency-Key, which is always safe (without a key, a retry may create a second notification).',
        undefined,
        {
          'retry-after': '1',
        },
      );
    }
    this.cache.set(id, { bodyHash, acceptedAt: envelope.acceptedAt, clientId });
  }
}
