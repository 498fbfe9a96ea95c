/** Where a batch's progress was (or is to be) committed: the last processed record and the offset to commit. */
export interface CommitTarget {
  /** Index in the batch of the last record of the contiguous processed prefix. */
  index: number;
  /** That record's offset (what `resolveOffset` takes). */
  lastOffset: string;
  /** The offset Kafka stores: the next one to read (`lastOffset + 1`). */
  nextOffset: string;
}

/** Sends one commit; `IngestConsumer` resolves the offset and calls `consumer.commitOffsets`. */
export type CommitFn = (target: CommitTarget) => Promise<void>;

/**
 * Offset bookkeeping of one partition batch, kept apart from Kafka so it can be tested alone. Records finish out of
 * order (concurrent workflow starts); only the contiguous processed prefix may be committed, each commit at most once.
 *
 * The commit target is captured before the commit is awaited, and `committed` advances only when that commit
 * succeeded: a concurrent commit (periodic and final ones overlap) or a failed one can never make the tracker claim
 * offsets Kafka does not have. Commits are serialized, so a lower offset is never sent after a higher one.
 */
export class OffsetTracker {
  private readonly done: boolean[];
  private contiguous = -1;
  private committedIndex = -1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly offsets: readonly string[],
    private readonly commitFn: CommitFn,
  ) {
    this.done = offsets.map(() => false);
  }

  /** Marks the record at `index` in the batch as processed (started or dead-lettered). */
  markDone(index: number): void {
    this.done[index] = true;
  }

  /** Index of the last record whose commit Kafka acknowledged (-1: none yet). */
  get committed(): number {
    return this.committedIndex;
  }

  /**
   * Commits the contiguous processed prefix if it grew since the last successful commit. Resolves with what was
   * committed (undefined when there was nothing new); rejects when the commit failed, leaving `committed` as it was.
   */
  commit(): Promise<CommitTarget | undefined> {
    const run = this.queue.then(() => this.commitNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async commitNow(): Promise<CommitTarget | undefined> {
    while (this.contiguous + 1 < this.offsets.length && this.done[this.contiguous + 1] === true) this.contiguous++;
    const index = this.contiguous;
    if (index <= this.committedIndex) return undefined;
    const lastOffset = this.offsets[index];
    if (lastOffset === undefined) return undefined;
    const target: CommitTarget = { index, lastOffset, nextOffset: (BigInt(lastOffset) + 1n).toString() };
    await this.commitFn(target);
    this.committedIndex = Math.max(this.committedIndex, index);
    return target;
  }
}
