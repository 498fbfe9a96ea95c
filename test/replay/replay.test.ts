import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workerDataConverter } from '../../src/crypto/data-converter.js';
import { workflowBundle } from '../../src/workers/create-workers.js';
import { quietTemporalRuntime } from '../helpers/quiet-runtime.js';
import { fixtureKeyring } from './fixture-key.js';
import { historyFromFile, readHistoryFiles } from './history-file.js';

/**
 * Workflow safety: notifications live up to a year (`sendAt`) plus the retry wait, so today's workflow code must
 * replay the histories of runs started by earlier code. These histories were captured from the real Temporal server
 * (`test/replay/capture-histories.ts`) and are replayed here, with the production bundle and data converter, without
 * any server. A failure means a change altered the workflow's command sequence: put it behind `patched()` (see
 * src/workflows/README.md) instead of re-capturing.
 */
const DIR = join(import.meta.dirname, 'histories');
const histories = readHistoryFiles(DIR);
let bundle: WorkflowBundleWithSourceMap;
const options = () => ({ workflowBundle: bundle, dataConverter: workerDataConverter(fixtureKeyring()) });

beforeAll(async () => {
  quietTemporalRuntime();
  bundle = await workflowBundle();
}, 120_000);

describe('workflow replay', () => {
  it('has a captured history for each protected kind of run', () => {
    expect(histories.map((h) => h.file)).toEqual([
      'cancelled-while-scheduled.json',
      'digest-joined.json',
      'digest-window.json',
      'events-failed-then-retried.json',
      'failed-then-retried.json',
      'fallback-routing.json',
      'scheduled-send-at.json',
      'sent-immediately.json',
      'transient-retries-then-sent.json',
    ]);
  });

  it.each(histories.map((h) => [h.file, h.content] as const))(
    'replays %s with the current workflow code',
    async (_file, content) => {
      await expect(
        Worker.runReplayHistory(options(), historyFromFile(content), content.workflowId),
      ).resolves.toBeUndefined();
    },
  );

  it('rejects a history whose recorded commands the code does not issue (the check can fail)', async () => {
    // The scheduled run, as if recorded by code that called another activity: today's code schedules `deliver`.
    const scheduled = histories.find((h) => h.file === 'scheduled-send-at.json')?.content;
    if (scheduled === undefined) throw new Error('fixture missing');
    const history = historyFromFile(scheduled);
    const activity = history.events.find(
      (e) => e.activityTaskScheduledEventAttributes != null,
    )?.activityTaskScheduledEventAttributes;
    if (activity?.activityType == null) throw new Error('fixture has no scheduled activity');
    activity.activityType.name = 'deliverV0';
    await expect(Worker.runReplayHistory(options(), history, scheduled.workflowId)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });
});
