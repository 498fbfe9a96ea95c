/** How the gateway learns whether a client has an enabled webhook endpoint (the store's query, or a fake in tests). */
export type EndpointLookup = (owner: string) => Promise<boolean>;

/** Options of {@link EndpointPresence}. */
export interface EndpointPresenceOptions {
  /** How long an answer is used before it is looked up again (WEBHOOK_EVENTS_PRESENCE_TTL_MS). */
  ttlMs: number;
  /** At most this many clients are remembered; the oldest answer is dropped first. */
  maxEntries?: number;
  /**
   * Longest a submission waits for the first lookup of a client (default 250 ms); after that it is answered "has
   * endpoints" while the lookup goes on, so a slow or unreachable database never holds the accept path.
   */
  maxWaitMs?: number;
  /** Called when a lookup failed (the answer is then "has endpoints", so nothing is lost). */
  onError?: (err: unknown, owner: string) => void;
  now?: () => number;
}

interface Entry {
  present: boolean;
  at: number;
  refreshing?: Promise<boolean>;
}

/**
 * Whether a client has at least one enabled webhook endpoint, as the gateway tells ingest at acceptance (the
 * `notify-events` record header). A notification accepted for a client without one is started without delivery
 * events, which saves the event activity and 8 of its 21 history events.
 *
 * Answers are cached per client for `ttlMs`. A stale answer is still used while a single background lookup
 * refreshes it, so the accept path waits for the database only for a client it has never seen. A failed lookup
 * answers `true`: events are then emitted and dropped by the activity if nobody listens, as without this cache. The
 * routes that create, enable or delete endpoints update the answer of this gateway at once; other gateway replicas
 * see the change within `ttlMs`.
 */
export class EndpointPresence {
  private readonly entries = new Map<string, Entry>();
  /** First lookups in flight, so concurrent submissions of a new client share one query. */
  private readonly first = new Map<string, Promise<boolean>>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(
    private readonly lookup: EndpointLookup,
    private readonly options: EndpointPresenceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** The answer for `owner`: synchronous while cached (stale answers start a refresh), else a promise (bounded wait). */
  has(owner: string): boolean | Promise<boolean> {
    const entry = this.entries.get(owner);
    if (entry === undefined) {
      const pending = this.first.get(owner);
      if (pending !== undefined) return pending;
      const lookup = this.refresh(owner).finally(() => this.first.delete(owner));
      const waited = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), this.options.maxWaitMs ?? 250);
        void lookup.then((present) => {
          clearTimeout(timer);
          resolve(present);
        });
      });
      this.first.set(owner, waited);
      return waited;
    }
    if (this.now() - entry.at >= this.options.ttlMs && entry.refreshing === undefined) void this.refresh(owner);
    return entry.present;
  }

  /** An endpoint of `owner` was created or enabled through this gateway: events from now on. */
  markPresent(owner: string): void {
    this.set(owner, true);
  }

  /** An endpoint of `owner` was deleted: the next submission looks the answer up again. */
  forget(owner: string): void {
    this.entries.delete(owner);
  }

  private refresh(owner: string): Promise<boolean> {
    const existing = this.entries.get(owner);
    const refreshing: Promise<boolean> = this.lookup(owner).then(
      (present) => {
        // A markPresent during the lookup wins over the older database answer.
        if (this.entries.get(owner)?.refreshing === refreshing || !this.entries.has(owner)) this.set(owner, present);
        return this.entries.get(owner)?.present ?? present;
      },
      (err: unknown): boolean => {
        this.options.onError?.(err, owner);
        const entry = this.entries.get(owner);
        if (entry?.refreshing === refreshing) entry.refreshing = undefined;
        // Unknown client: "has endpoints" until the next look after ttlMs (not one failing query per submission).
        if (entry === undefined) this.set(owner, true);
        return entry?.present ?? true;
      },
    );
    if (existing !== undefined) existing.refreshing = refreshing;
    return refreshing;
  }

  private set(owner: string, present: boolean): void {
    this.entries.delete(owner);
    this.entries.set(owner, { present, at: this.now() });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}
