/** What the gateway remembers about a notification it accepted. */
export interface AcceptedEntry {
  bodyHash: string;
  acceptedAt: string;
  /** Owner: only this client may see the notification (others get 404). */
  clientId: string;
}

/**
 * Bounded in-memory record of recently accepted notifications, in two generations: new entries go to the current
 * map; when it holds half the bound it becomes the previous one and the oldest generation is dropped whole. So it
 * remembers at least the last `maxEntries / 2` and at most `maxEntries` acceptances, at a constant cost per entry.
 *
 * Not a `Map` trimmed from its oldest key: V8 leaves each deleted entry as a hole at the front of the map's table
 * until the next rehash, so `keys().next()` skips more holes every time, and a full cache cost up to ~120 µs per
 * accepted notification (measured; `bench/acceptance-cache.ts`), a slowdown that starts after the first
 * 100,000 acceptances of a gateway's life.
 *
 * It answers two questions in the window between the 202 and ingest starting the workflow: "is this a replay of a
 * request I accepted?" and "does this id exist?" (status `accepted`). After that window Temporal answers both.
 * Each gateway has its own; with several gateways, route a client's retries to one gateway (or rely on ingest's
 * workflow-id dedup, which still guarantees a single send).
 */
export class AcceptanceCache {
  private current = new Map<string, AcceptedEntry>();
  private previous = new Map<string, AcceptedEntry>();
  private readonly generationSize: number;

  constructor(maxEntries = 100_000) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  /** Entries held now (both generations; an id set again while in the previous one counts twice until it ages out). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  get(id: string): AcceptedEntry | undefined {
    return this.current.get(id) ?? this.previous.get(id);
  }

  /** The entry when `clientId` owns it; another client's notification looks absent (no existence leak). */
  getOwned(id: string, clientId: string): AcceptedEntry | undefined {
    const entry = this.get(id);
    return entry?.clientId === clientId ? entry : undefined;
  }

  set(id: string, entry: AcceptedEntry): void {
    this.current.set(id, entry);
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
  }
}
