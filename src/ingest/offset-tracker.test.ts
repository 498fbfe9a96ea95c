import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offset-tracker.js';
import type { CommitTarget } from './offset-tracker.js';

/** A commit function whose calls the test settles by hand. */
function manualCommits() {
  const calls: { target: CommitTarget; resolve: () => void; reject: (err: Error) => void }[] = [];
  const commitFn = (target: CommitTarget) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ target, resolve, reject });
    });
  return { calls, commitFn };
}

/** Lets pending promise callbacks run. */
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('OffsetTracker', () => {
  it('commits only the contiguous processed prefix, as the next offset to read', async () => {
    const sent: CommitTarget[] = [];
    const tracker = new OffsetTracker(['10', '11', '12', '13'], (t) => {
      sent.push(t);
      return Promise.resolve();
    });
    tracker.markDone(0);
    tracker.markDone(2);
    expect(await tracker.commit()).toEqual({ index: 0, lastOffset: '10', nextOffset: '11' });
    tracker.markDone(1);
    expect(await tracker.commit()).toEqual({ index: 2, lastOffset: '12', nextOffset: '13' });
    expect(tracker.committed).toBe(2);
    expect(sent.map((t) => t.nextOffset)).toEqual(['11', '13']);
  });

  it('sends nothing when nothing new was processed since the last successful commit', async () => {
    const sent: CommitTarget[] = [];
    const tracker = new OffsetTracker(['5', '6'], (t) => {
      sent.push(t);
      return Promise.resolve();
    });
    expect(await tracker.commit()).toBeUndefined();
    tracker.markDone(0);
    await tracker.commit();
    expect(await tracker.commit()).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('handles offsets beyond the safe-integer range', async () => {
    const tracker = new OffsetTracker(['9007199254740993'], () => Promise.resolve());
    tracker.markDone(0);
    expect((await tracker.commit())?.nextOffset).toBe('9007199254740994');
  });

  it('does not count a failed commit as committed: the next commit sends those offsets again', async () => {
    let fail = true;
    const sent: string[] = [];
    const tracker = new OffsetTracker(['0', '1'], (t) => {
      sent.push(t.nextOffset);
      return fail ? Promise.reject(new Error('coordinator not available')) : Promise.resolve();
    });
    tracker.markDone(0);
    tracker.markDone(1);
    await expect(tracker.commit()).rejects.toThrow('coordinator not available');
    expect(tracker.committed).toBe(-1);
    fail = false;
    expect((await tracker.commit())?.nextOffset).toBe('2');
    expect(sent).toEqual(['2', '2']);
    expect(tracker.committed).toBe(1);
  });

  it('does not let an overlapping commit that succeeds claim the offsets of one that fails', async () => {
    // The periodic commit (A) is in flight when more records finish and the final commit (B) starts. A succeeds,
    // B fails: only A's target is committed, and a later commit must still send B's offsets.
    const { calls, commitFn } = manualCommits();
    const tracker = new OffsetTracker(['0', '1', '2', '3'], commitFn);
    tracker.markDone(0);
    const a = tracker.commit();
    await tick();
    for (const i of [1, 2, 3]) tracker.markDone(i);
    const b = tracker.commit();
    await tick();
    calls[0]?.resolve();
    await expect(a).resolves.toMatchObject({ nextOffset: '1' });
    await tick();
    calls[1]?.reject(new Error('rebalance in progress'));
    await expect(b).rejects.toThrow('rebalance in progress');
    expect(tracker.committed).toBe(0);

    const retry = tracker.commit();
    await tick();
    expect(calls[2]?.target.nextOffset).toBe('4');
    calls[2]?.resolve();
    await expect(retry).resolves.toMatchObject({ index: 3 });
    expect(tracker.committed).toBe(3);
  });

  it('never sends a lower offset after a higher one (commits are serialized)', async () => {
    const { calls, commitFn } = manualCommits();
    const tracker = new OffsetTracker(['0', '1', '2'], commitFn);
    tracker.markDone(0);
    const a = tracker.commit();
    await tick();
    tracker.markDone(1);
    tracker.markDone(2);
    const b = tracker.commit();
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]?.resolve();
    await a;
    await tick();
    expect(calls.map((c) => c.target.nextOffset)).toEqual(['1', '3']);
    calls[1]?.resolve();
    await b;
    expect(tracker.committed).toBe(2);
  });
});
