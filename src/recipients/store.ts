import type pg from 'pg';
import { addressKeys, withoutSuppressed } from './addresses.js';
import type { PreferenceDefaults, Preferences } from './preferences.js';
import { acceptsDelivery } from './preferences.js';
import type { QuietHours } from './quiet-hours.js';
import { quietUntil } from './quiet-hours.js';

/** The profile part of a recipient, as the API writes it. */
export interface RecipientProfile {
  /** Channel name → address in that channel's `to` shape (validated by the channel's own schema). */
  addresses: Record<string, unknown>;
  timezone?: string;
  locale?: string;
  properties: Record<string, unknown>;
  quietHours?: QuietHours;
}

/** A stored recipient. `version` increases with every write (optimistic concurrency: `ETag` / `If-Match`). */
export interface Recipient extends RecipientProfile {
  id: string;
  preferences: Preferences;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A JSON merge patch of a profile: `null` removes an address, a property, the time zone, locale or quiet hours. */
export interface RecipientPatch {
  addresses?: Record<string, unknown>;
  timezone?: string | null;
  locale?: string | null;
  properties?: Record<string, unknown>;
  quietHours?: QuietHours | null;
}

/** A suppressed address of one channel: nothing is sent to it until the suppression is deleted. */
export interface Suppression {
  channel: string;
  address: string;
  reason: string;
  source: 'api' | 'automatic';
  recipientId?: string;
  notificationId?: string;
  createdAt: string;
}

/** `If-Match` named a version that is no longer current. */
export class VersionConflictError extends Error {
  constructor(readonly current: number) {
    super(`the recipient was changed meanwhile (current version ${current})`);
    this.name = 'VersionConflictError';
  }
}

/** What the delivery activity should do with one delivery, decided when it runs. */
export type DeliveryResolution =
  | { kind: 'send'; to: unknown; locale?: string }
  | { kind: 'skip'; reason: 'opted-out' | 'suppressed' }
  | { kind: 'hold'; until: string }
  | { kind: 'unknown-recipient' }
  | { kind: 'no-address' };

/** A delivery to resolve: the owner, the recipient (if any), the channel, the category and the explicit address (if any). */
export interface ResolveQuery {
  owner: string;
  recipientId?: string;
  channel: string;
  category?: string;
  to?: unknown;
  now: Date;
}

interface RecipientRow {
  recipient_id: string;
  addresses: Record<string, unknown>;
  timezone: string | null;
  locale: string | null;
  properties: Record<string, unknown>;
  quiet_hours: QuietHours | null;
  preferences: Preferences;
  version: number;
  created_at: Date;
  updated_at: Date;
}

interface SuppressionRow {
  channel: string;
  address: string;
  reason: string;
  source: 'api' | 'automatic';
  recipient_id: string | null;
  notification_id: string | null;
  created_at: Date;
}

const RECIPIENT_COLUMNS =
  'recipient_id, addresses, timezone, locale, properties, quiet_hours, preferences, version, created_at, updated_at';

function toRecipient(row: RecipientRow): Recipient {
  return {
    id: row.recipient_id,
    addresses: row.addresses,
    ...(row.timezone !== null ? { timezone: row.timezone } : {}),
    ...(row.locale !== null ? { locale: row.locale } : {}),
    properties: row.properties,
    ...(row.quiet_hours !== null ? { quietHours: row.quiet_hours } : {}),
    preferences: row.preferences,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toSuppression(row: SuppressionRow): Suppression {
  return {
    channel: row.channel,
    address: row.address,
    reason: row.reason,
    source: row.source,
    ...(row.recipient_id !== null ? { recipientId: row.recipient_id } : {}),
    ...(row.notification_id !== null ? { notificationId: row.notification_id } : {}),
    createdAt: row.created_at.toISOString(),
  };
}

function mergeRecord(
  base: Record<string, unknown>,
  patch: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (patch === undefined) return base;
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * Recipients, their preferences and the suppression list in PostgreSQL, every row scoped by owner (the API key's
 * client id). Used by the gateway (API) and the delivery activity (resolution); built on a pool the entry point owns.
 */
export class RecipientStore {
  constructor(private readonly pool: pg.Pool) {}

  /** The recipient, or undefined. */
  async get(owner: string, id: string): Promise<Recipient | undefined> {
    const { rows } = await this.pool.query<RecipientRow>(
      `SELECT ${RECIPIENT_COLUMNS} FROM recipients WHERE owner = $1 AND recipient_id = $2`,
      [owner, id],
    );
    return rows[0] !== undefined ? toRecipient(rows[0]) : undefined;
  }

  /** Whether the recipient exists (the gateway's submit check). */
  async exists(owner: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM recipients WHERE owner = $1 AND recipient_id = $2', [
      owner,
      id,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * Creates or replaces the profile (preferences are kept). With `ifMatch`, only when the current version is that one
   * (0 = must not exist yet).
   */
  async put(
    owner: string,
    id: string,
    profile: RecipientProfile,
    ifMatch?: number,
  ): Promise<{ recipient: Recipient; created: boolean }> {
    return this.transaction(async (client) => {
      const current = await this.lockRow(client, owner, id);
      if (ifMatch !== undefined && (current?.version ?? 0) !== ifMatch)
        throw new VersionConflictError(current?.version ?? 0);
      const values = [
        owner,
        id,
        JSON.stringify(profile.addresses),
        profile.timezone ?? null,
        profile.locale ?? null,
        JSON.stringify(profile.properties),
        profile.quietHours !== undefined ? JSON.stringify(profile.quietHours) : null,
      ];
      if (current === undefined) {
        const { rows } = await client.query<RecipientRow>(
          `INSERT INTO recipients (owner, recipient_id, addresses, timezone, locale, properties, quiet_hours) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (owner, recipient_id) DO NOTHING RETURNING ${RECIPIENT_COLUMNS}`,
          values,
        );
        if (rows[0] !== undefined) return { recipient: toRecipient(rows[0]), created: true };
        // Created concurrently after our read: with a version condition that is a conflict, without one we replace it.
        if (ifMatch !== undefined) throw new VersionConflictError(1);
      }
      const { rows } = await client.query<RecipientRow>(
        `UPDATE recipients SET addresses = $3, timezone = $4, locale = $5, properties = $6, quiet_hours = $7, version = version + 1, updated_at = now()
         WHERE owner = $1 AND recipient_id = $2 RETURNING ${RECIPIENT_COLUMNS}`,
        values,
      );
      return { recipient: toRecipient(rows[0] as RecipientRow), created: false };
    });
  }

  /**
   * Applies a merge patch under a row lock, so concurrent patches of one recipient serialize and none is lost; with
   * `ifMatch`, fails with {@link VersionConflictError} unless the version is current. Undefined when there is no such recipient.
   */
  async patch(owner: string, id: string, patch: RecipientPatch, ifMatch?: number): Promise<Recipient | undefined> {
    return this.transaction(async (client) => {
      const current = await this.lockRow(client, owner, id);
      if (current === undefined) return undefined;
      if (ifMatch !== undefined && current.version !== ifMatch) throw new VersionConflictError(current.version);
      const addresses = mergeRecord(current.addresses, patch.addresses);
      const properties = mergeRecord(current.properties, patch.properties);
      const pick = <T>(next: T | null | undefined, prev: T | null): T | null => (next === undefined ? prev : next);
      const { rows } = await client.query<RecipientRow>(
        `UPDATE recipients SET addresses = $3, timezone = $4, locale = $5, properties = $6, quiet_hours = $7, version = version + 1, updated_at = now()
         WHERE owner = $1 AND recipient_id = $2 RETURNING ${RECIPIENT_COLUMNS}`,
        [
          owner,
          id,
          JSON.stringify(addresses),
          pick(patch.timezone, current.timezone),
          pick(patch.locale, current.locale),
          JSON.stringify(properties),
          JSON.stringify(pick(patch.quietHours, current.quiet_hours)),
        ],
      );
      return toRecipient(rows[0] as RecipientRow);
    });
  }

  /** Replaces the preferences; undefined when there is no such recipient. */
  async putPreferences(
    owner: string,
    id: string,
    preferences: Preferences,
    ifMatch?: number,
  ): Promise<Recipient | undefined> {
    return this.transaction(async (client) => {
      const current = await this.lockRow(client, owner, id);
      if (current === undefined) return undefined;
      if (ifMatch !== undefined && current.version !== ifMatch) throw new VersionConflictError(current.version);
      const { rows } = await client.query<RecipientRow>(
        `UPDATE recipients SET preferences = $3, version = version + 1, updated_at = now() WHERE owner = $1 AND recipient_id = $2 RETURNING ${RECIPIENT_COLUMNS}`,
        [owner, id, JSON.stringify(preferences)],
      );
      return toRecipient(rows[0] as RecipientRow);
    });
  }

  /**
   * Erases the recipient: its profile (addresses, time zone, locale, properties, quiet hours), its preferences and the
   * suppressions recorded from its deliveries. Returns whether it existed.
   */
  async delete(owner: string, id: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const { rowCount } = await client.query('DELETE FROM recipients WHERE owner = $1 AND recipient_id = $2', [
        owner,
        id,
      ]);
      await client.query('DELETE FROM suppressions WHERE owner = $1 AND recipient_id = $2', [owner, id]);
      return (rowCount ?? 0) > 0;
    });
  }

  /** Suppressions of the owner, newest first, optionally of one channel. */
  async listSuppressions(owner: string, filter: { channel?: string; limit: number }): Promise<Suppression[]> {
    const { rows } = await this.pool.query<SuppressionRow>(
      'SELECT channel, address, reason, source, recipient_id, notification_id, created_at FROM suppressions WHERE owner = $1 AND ($2::text IS NULL OR channel = $2) ORDER BY created_at DESC, channel, address LIMIT $3',
      [owner, filter.channel ?? null, filter.limit],
    );
    return rows.map(toSuppression);
  }

  /** Records a suppression (the first reason for an address is kept). Returns the stored row and whether it is new. */
  async addSuppression(
    owner: string,
    s: Omit<Suppression, 'createdAt'>,
  ): Promise<{ suppression: Suppression; created: boolean }> {
    const inserted = await this.pool.query<SuppressionRow>(
      `INSERT INTO suppressions (owner, channel, address, reason, source, recipient_id, notification_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (owner, channel, address) DO NOTHING RETURNING channel, address, reason, source, recipient_id, notification_id, created_at`,
      [owner, s.channel, s.address, s.reason, s.source, s.recipientId ?? null, s.notificationId ?? null],
    );
    if (inserted.rows[0] !== undefined) return { suppression: toSuppression(inserted.rows[0]), created: true };
    const { rows } = await this.pool.query<SuppressionRow>(
      'SELECT channel, address, reason, source, recipient_id, notification_id, created_at FROM suppressions WHERE owner = $1 AND channel = $2 AND address = $3',
      [owner, s.channel, s.address],
    );
    return { suppression: toSuppression(rows[0] as SuppressionRow), created: false };
  }

  /** Deletes a suppression; returns whether it existed. */
  async deleteSuppression(owner: string, channel: string, address: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM suppressions WHERE owner = $1 AND channel = $2 AND address = $3',
      [owner, channel, address],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Decides one delivery at the moment it runs: the recipient's current address for the channel (unless the
   * request gave one), its preferences for the category, the suppression list, and its quiet hours (urgent
   * categories bypass them). Two reads: the recipient row (when named) and the suppressions of the addresses.
   */
  async resolve(q: ResolveQuery, defaults: PreferenceDefaults): Promise<DeliveryResolution> {
    let to = q.to;
    let recipient: Recipient | undefined;
    if (q.recipientId !== undefined) {
      recipient = await this.get(q.owner, q.recipientId);
      if (recipient === undefined) return { kind: 'unknown-recipient' };
      if (!acceptsDelivery(recipient.preferences, q.channel, q.category, defaults))
        return { kind: 'skip', reason: 'opted-out' };
      to ??= recipient.addresses[q.channel];
    }
    if (to === undefined || to === null) return { kind: 'no-address' };
    const keys = addressKeys(q.channel, to);
    const { rows } = await this.pool.query<{ address: string }>(
      'SELECT address FROM suppressions WHERE owner = $1 AND channel = $2 AND address = ANY($3::text[])',
      [q.owner, q.channel, keys],
    );
    const remaining = withoutSuppressed(q.channel, to, new Set(rows.map((r) => r.address)));
    if (remaining === undefined) return { kind: 'skip', reason: 'suppressed' };
    const urgent = q.category !== undefined && defaults.urgentCategories.includes(q.category);
    if (recipient?.quietHours !== undefined && !urgent) {
      const until = quietUntil(recipient.quietHours, recipient.timezone, q.now);
      if (until !== undefined) return { kind: 'hold', until: until.toISOString() };
    }
    // The profile's locale picks a template's locale variant.
    return { kind: 'send', to: remaining, ...(recipient?.locale !== undefined ? { locale: recipient.locale } : {}) };
  }

  private async lockRow(client: pg.PoolClient, owner: string, id: string): Promise<RecipientRow | undefined> {
    const { rows } = await client.query<RecipientRow>(
      `SELECT ${RECIPIENT_COLUMNS} FROM recipients WHERE owner = $1 AND recipient_id = $2 FOR UPDATE`,
      [owner, id],
    );
    return rows[0];
  }

  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
