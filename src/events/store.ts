import type pg from 'pg';
import { uuidv7 } from 'uuidv7';
import type { PayloadKeyring } from '../crypto/keyring.js';
import type { EventType } from '../shared/events.js';
import { eventDeliveryWorkflowId } from '../shared/events.js';
import { generateEndpointSecret } from './signing.js';

/** A client's webhook endpoint as the API shows it (never with its secret). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description?: string;
  eventTypes: EventType[];
  /** `disabled` after the receiver answered 410 Gone (`disabledReason` says so); no events are sent to it. */
  status: 'enabled' | 'disabled';
  disabledReason?: string;
  /** While set, deliveries are signed with the previous secret too (after a rotation). */
  previousSecretExpiresAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** State of one event's delivery to one endpoint. */
export type EventDeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed' | 'endpoint-disabled';

/** One HTTP attempt of an event delivery. */
export interface EventDeliveryAttempt {
  attempt: number;
  at: string;
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/** One event's delivery to one endpoint, with every attempt. */
export interface EventDelivery {
  eventId: string;
  eventType: string;
  notificationId: string;
  status: EventDeliveryStatus;
  /** The Temporal workflow that delivers it (visible in the Web UI). */
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  deliveredAt?: string;
  attempts: EventDeliveryAttempt[];
}

/** What a delivery attempt needs: where to POST and the secrets to sign with (current first). */
export interface EndpointForDelivery {
  url: string;
  status: 'enabled' | 'disabled';
  secrets: string[];
}

/** How a secret is stored: sealed with the payload keyring, bound to its endpoint (AAD). */
interface SealedSecret {
  kid: string;
  iv: string;
  ct: string;
}

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const ENDPOINT_COLUMNS =
  'id, url, description, event_types, status, disabled_reason, previous_secret_expires_at, created_at, updated_at';

function toEndpoint(row: EndpointRow, now: Date = new Date()): WebhookEndpoint {
  const overlap = row.previous_secret_expires_at;
  return {
    id: row.id,
    url: row.url,
    ...(row.description !== null ? { description: row.description } : {}),
    eventTypes: row.event_types as EventType[],
    status: row.status,
    ...(row.disabled_reason !== null ? { disabledReason: row.disabled_reason } : {}),
    ...(overlap !== null && overlap > now ? { previousSecretExpiresAt: overlap.toISOString() } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Webhook endpoints, their signing secrets and the deliveries of events to them, in PostgreSQL, every endpoint
 * scoped by owner (the API key's client id): another client's endpoint is never found. Secrets are stored sealed with
 * the payload keyring (AES-256-GCM, bound to the endpoint id), so a database dump alone does not reveal them; they are
 * opened only to sign a delivery and returned in clear only when created or rotated.
 */
export class WebhookEndpointStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly keyring: PayloadKeyring,
  ) {}

  private aad(id: string): Buffer {
    return Buffer.from(`notify.webhook-endpoint-secret:${id}`);
  }

  private seal(id: string, secret: string): SealedSecret {
    const sealed = this.keyring.seal(Buffer.from(secret, 'utf8'), this.aad(id));
    return { kid: sealed.keyId, iv: sealed.iv.toString('base64'), ct: sealed.ciphertext.toString('base64') };
  }

  private open(id: string, sealed: SealedSecret): string {
    return this.keyring
      .open(
        { keyId: sealed.kid, iv: Buffer.from(sealed.iv, 'base64'), ciphertext: Buffer.from(sealed.ct, 'base64') },
        this.aad(id),
      )
      .toString('utf8');
  }

  /** Registers an endpoint with a new secret; the secret is returned here (and at rotation) only. */
  async create(
    owner: string,
    input: { url: string; eventTypes: readonly EventType[]; description?: string },
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const id = `we_${uuidv7().replaceAll('-', '')}`;
    const secret = generateEndpointSecret();
    const { rows } = await this.pool.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, owner, url, description, event_types, secret) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${ENDPOINT_COLUMNS}`,
      [id, owner, input.url, input.description ?? null, [...new Set(input.eventTypes)], this.seal(id, secret)],
    );
    return { endpoint: toEndpoint(rows[0] as EndpointRow), secret };
  }

  /** The owner's endpoints, oldest first. */
  async list(owner: string): Promise<WebhookEndpoint[]> {
    const { rows } = await this.pool.query<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE owner = $1 ORDER BY created_at, id`,
      [owner],
    );
    return rows.map((r) => toEndpoint(r));
  }

  /** The owner's endpoint, or undefined (also for another owner's). */
  async get(owner: string, id: string): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.pool.query<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE owner = $1 AND id = $2`,
      [owner, id],
    );
    return rows[0] !== undefined ? toEndpoint(rows[0]) : undefined;
  }

  /** Deletes the endpoint and its delivery records; pending deliveries to it stop at their next attempt. */
  async delete(owner: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM webhook_endpoints WHERE owner = $1 AND id = $2', [
      owner,
      id,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * Replaces the secret with a new one (returned once). The current secret stays valid for `overlapMs`: deliveries
   * carry a signature with each, so receivers can switch to the new secret without rejecting anything meanwhile.
   */
  async rotateSecret(
    owner: string,
    id: string,
    overlapMs: number,
  ): Promise<{ endpoint: WebhookEndpoint; secret: string } | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows: current } = await client.query<{ secret: SealedSecret }>(
        'SELECT secret FROM webhook_endpoints WHERE owner = $1 AND id = $2 FOR UPDATE',
        [owner, id],
      );
      const old = current[0];
      if (old === undefined) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const secret = generateEndpointSecret();
      const { rows } = await client.query<EndpointRow>(
        `UPDATE webhook_endpoints SET secret = $3, previous_secret = $4,
           previous_secret_expires_at = now() + make_interval(secs => $5::double precision / 1000), updated_at = now()
         WHERE owner = $1 AND id = $2 RETURNING ${ENDPOINT_COLUMNS}`,
        [owner, id, this.seal(id, secret), overlapMs > 0 ? old.secret : null, overlapMs],
      );
      await client.query('COMMIT');
      return { endpoint: toEndpoint(rows[0] as EndpointRow), secret };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Whether the owner has at least one enabled endpoint (the gateway's `EndpointPresence` lookup). */
  async hasEnabledEndpoint(owner: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ present: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE owner = $1 AND status = 'enabled') AS present",
      [owner],
    );
    return rows[0]?.present === true;
  }

  /** The owner's enabled endpoints and the event types each wants (the emission activity's fan-out). */
  async subscriptions(owner: string): Promise<Array<{ id: string; eventTypes: EventType[] }>> {
    const { rows } = await this.pool.query<{ id: string; event_types: string[] }>(
      "SELECT id, event_types FROM webhook_endpoints WHERE owner = $1 AND status = 'enabled'",
      [owner],
    );
    return rows.map((r) => ({ id: r.id, eventTypes: r.event_types as EventType[] }));
  }

  /** Records a pending delivery of an event to an endpoint (idempotent: a second call keeps the first row). */
  async recordPending(
    endpointId: string,
    event: { eventId: string; type: EventType; notificationId: string },
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, notification_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
      [endpointId, event.eventId, event.type, event.notificationId],
    );
  }

  /**
   * Where and how to deliver to the owner's endpoint: its URL, status and the secrets to sign with (the current one,
   * plus the previous one while its overlap lasts). Undefined when the endpoint was deleted.
   */
  async forDelivery(owner: string, id: string): Promise<EndpointForDelivery | undefined> {
    const { rows } = await this.pool.query<{
      url: string;
      status: 'enabled' | 'disabled';
      secret: SealedSecret;
      previous_secret: SealedSecret | null;
      previous_valid: boolean;
    }>(
      `SELECT url, status, secret, previous_secret,
              (previous_secret IS NOT NULL AND previous_secret_expires_at > now()) AS previous_valid
       FROM webhook_endpoints WHERE owner = $1 AND id = $2`,
      [owner, id],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const secrets = [this.open(id, row.secret)];
    if (row.previous_valid && row.previous_secret !== null) secrets.push(this.open(id, row.previous_secret));
    return { url: row.url, status: row.status, secrets };
  }

  /**
   * Records one HTTP attempt and the delivery's resulting state, in one transaction. A repeated attempt number (an
   * activity that ran twice) keeps the first record.
   */
  async recordAttempt(input: {
    endpointId: string;
    eventId: string;
    attempt: number;
    statusCode?: number;
    error?: string;
    durationMs: number;
    status: EventDeliveryStatus;
  }): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO webhook_delivery_attempts (endpoint_id, event_id, attempt, status_code, error, duration_ms)
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2)
         ON CONFLICT DO NOTHING`,
        [
          input.endpointId,
          input.eventId,
          input.attempt,
          input.statusCode ?? null,
          input.error?.slice(0, 1000) ?? null,
          Math.round(input.durationMs),
        ],
      );
      await client.query(
        `UPDATE webhook_deliveries SET status = $3, attempts = GREATEST(attempts, $4), updated_at = now(),
           delivered_at = CASE WHEN $3 = 'delivered' THEN COALESCE(delivered_at, now()) ELSE delivered_at END
         WHERE endpoint_id = $1 AND event_id = $2 AND status <> 'delivered'`,
        [input.endpointId, input.eventId, input.status, input.attempt],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Marks a delivery that will not be attempted again (its endpoint is disabled). */
  async markDelivery(endpointId: string, eventId: string, status: EventDeliveryStatus): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET status = $3, updated_at = now() WHERE endpoint_id = $1 AND event_id = $2 AND status <> 'delivered'`,
      [endpointId, eventId, status],
    );
  }

  /**
   * Enables the owner's endpoint again (after a 410 disabled it, once the receiver is back): events emitted from now on
   * are delivered to it; those dropped while it was disabled are not replayed. Undefined without that endpoint.
   */
  async enable(owner: string, id: string): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.pool.query<EndpointRow>(
      `UPDATE webhook_endpoints SET status = 'enabled', disabled_reason = NULL, updated_at = now()
       WHERE owner = $1 AND id = $2 RETURNING ${ENDPOINT_COLUMNS}`,
      [owner, id],
    );
    return rows[0] !== undefined ? toEndpoint(rows[0]) : undefined;
  }

  /** Disables an endpoint (the receiver answered 410 Gone): no further events are sent to it. */
  async disable(endpointId: string, reason: string): Promise<void> {
    await this.pool.query(
      "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, updated_at = now() WHERE id = $1",
      [endpointId, reason.slice(0, 500)],
    );
  }

  /** The latest deliveries to the owner's endpoint with their attempts (newest first); undefined without that endpoint. */
  async listDeliveries(owner: string, id: string, limit = 100): Promise<EventDelivery[] | undefined> {
    if ((await this.get(owner, id)) === undefined) return undefined;
    const { rows } = await this.pool.query<{
      event_id: string;
      event_type: string;
      notification_id: string;
      status: EventDeliveryStatus;
      created_at: Date;
      updated_at: Date;
      delivered_at: Date | null;
      attempts: Array<{
        attempt: number;
        at: string;
        status_code: number | null;
        error: string | null;
        duration_ms: number;
      }>;
    }>(
      `SELECT d.event_id, d.event_type, d.notification_id, d.status, d.created_at, d.updated_at, d.delivered_at,
              COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.attempted_at, 'status_code', a.status_code,
                                                          'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.attempt)
                        FROM webhook_delivery_attempts a WHERE a.endpoint_id = d.endpoint_id AND a.event_id = d.event_id),
                       '[]'::json) AS attempts
       FROM webhook_deliveries d WHERE d.endpoint_id = $1 ORDER BY d.created_at DESC, d.event_id LIMIT $2`,
      [id, limit],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      eventType: r.event_type,
      notificationId: r.notification_id,
      status: r.status,
      workflowId: eventDeliveryWorkflowId(r.event_id, id),
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at.toISOString() } : {}),
      attempts: r.attempts.map((a) => ({
        attempt: a.attempt,
        at: new Date(a.at).toISOString(),
        ...(a.status_code !== null ? { statusCode: a.status_code } : {}),
        ...(a.error !== null ? { error: a.error } : {}),
        durationMs: a.duration_ms,
      })),
    }));
  }
}
