/** What the gateway remembers about a notification it accepted. */
export interface AcceptedEntry {
  bodyHash: string;
  acceptedAt: string;
  /** Owner: only this client may see the notification (others get 404). */
  clientId: string;
}

/**
 * Bounded in-memory record of recently accepted notifications (insertion-ordered LRU).
 *
 * It answers two questions in the window between the 202 and ingest starting the workflow: "is this a replay of a
 * request I accepted?" and "does this id exist?" (status `accepted`). After that window Temporal answers both.
 * Each gateway has its own; with several gateways, route a client's retries to one gateway (or rely on ingest's
 * workflow-id dedup, which still guarantees a single send).
 */
export class AcceptanceCache {
  private readonly entries = new Map<string, AcceptedEntry>();

  constructor(private readonly maxEntries = 100_000) {}

  get(id: string): AcceptedEntry | undefined {
    return this.entries.get(id);
  }

  /** The entry when `clientId` owns it; another client's notification looks absent (no existence leak). */
  getOwned(id: string, clientId: string): AcceptedEntry | undefined {
    const entry = this.entries.get(id);
    return entry?.clientId === clientId ? entry : undefined;
  }

  set(id: string, entry: AcceptedEntry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}
