import type { Client } from '@temporalio/client';
import type { DigestWorkflowInput, JoinDigestInput } from '../shared/digest.js';
import { DIGEST_WORKFLOW_TYPE, SIGNAL_DIGEST_ADD } from '../shared/digest.js';
import { workflowTaskQueue } from '../shared/notification.js';

/** Dependencies of the digest activities: a Temporal client, built by the worker entry point. */
export interface DigestActivityDeps {
  client: Client;
}

/** The digest activities as the notification workflow sees them (used with `import type` in workflow code). */
export interface DigestActivities {
  /**
   * Adds a notification to its digest: signal-with-start of the digest workflow (one per client + recipient + key),
   * which workflow code cannot call itself. Safe to retry: the digest workflow ignores a notification id it has seen.
   */
  joinDigest(input: JoinDigestInput): Promise<{ digestRunId: string }>;
}

/** Builds the digest activities (registered on the workflow task queue by the workflow worker). */
export function createDigestActivities(deps: DigestActivityDeps): DigestActivities {
  return {
    async joinDigest(input: JoinDigestInput): Promise<{ digestRunId: string }> {
      const start: DigestWorkflowInput = input.start;
      const handle = await deps.client.workflow.signalWithStart(DIGEST_WORKFLOW_TYPE, {
        workflowId: input.workflowId,
        taskQueue: workflowTaskQueue(start.taskQueuePrefix),
        args: [start],
        signal: SIGNAL_DIGEST_ADD,
        signalArgs: [input.item],
      });
      return { digestRunId: handle.signaledRunId };
    },
  };
}
