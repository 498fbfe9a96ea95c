import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import type { notificationWorkflow } from '../workflows/notification-workflow.js';
import {
  NOTIFICATION_WORKFLOW_TYPE,
  QUERY_STATUS,
  SEARCH_ATTRIBUTES,
  SIGNAL_CANCEL,
  SIGNAL_RETRY,
  workflowTaskQueue,
} from '../shared/notification.js';
import type { NotificationState, NotificationStatus, NotificationWorkflowInput } from '../shared/notification.js';
import { withTimeout } from '../runtime/with-timeout.js';

/** Memo stored on every notification workflow: what the gateway needs for idempotency checks, no PII. */
export interface NotificationMemo {
  bodyHash: string;
  clientId: string;
}

/** Outcome of `start`: whether this call created the workflow or found it already there. */
export type StartOutcome = 'started' | 'already-started';

const channelsKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.channels.name, SearchAttributeType.KEYWORD_LIST);
const statusKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.status.name, SearchAttributeType.KEYWORD);
const tagsKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.tags.name, SearchAttributeType.KEYWORD_LIST);
const clientKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.client.name, SearchAttributeType.KEYWORD);

/** What the status API learns about a notification from Temporal. */
export interface NotificationLookup {
  state?: NotificationState;
  /** Status from the search attribute, when the query could not be answered (e.g. no workflow worker running). */
  statusFromSearchAttribute?: NotificationStatus;
  memo?: Partial<NotificationMemo>;
  runStatus: string;
  startTime?: Date;
  closeTime?: Date;
  /** `lastFailureType`: the failure's type name (never encrypted, unlike its message), e.g. `RecipientStoreUnavailable`. */
  pendingActivities: Array<{
    activityType?: string;
    attempt: number;
    lastFailure?: string;
    lastFailureType?: string;
    state?: string;
  }>;
}

/**
 * The application's operations on notification workflows, shared by ingest (start) and the gateway (status, cancel,
 * retry). Workflow id = notification id.
 */
export class NotificationClient {
  constructor(
    private readonly client: Client,
    private readonly options: {
      taskQueuePrefix: string;
      queryTimeoutMs?: number;
      /**
       * Ask for eager workflow start (the client must be on a NativeConnection shared with a workflow worker of this
       * process, see INGEST_EAGER_START); the server may decline, and the start then proceeds as usual.
       */
      eagerStart?: boolean;
    },
  ) {}

  /**
   * Starts the workflow for a notification. `REJECT_DUPLICATE` + `FAIL` mean a redelivered Kafka record can never
   * start a second run, not even after the first completed (for as long as the namespace retains closed runs), so
   * "already started" is success for the caller.
   */
  async start(input: NotificationWorkflowInput, memo: NotificationMemo): Promise<StartOutcome> {
    const request = input.request;
    const channels = [...new Set(request.deliveries.map((d) => d.channel))];
    const initialStatus: NotificationStatus =
      request.sendAt !== undefined && Date.parse(request.sendAt) > Date.now() ? 'scheduled' : 'sending';
    try {
      await this.client.workflow.start<typeof notificationWorkflow>(NOTIFICATION_WORKFLOW_TYPE, {
        workflowId: input.id,
        taskQueue: workflowTaskQueue(this.options.taskQueuePrefix),
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        ...(this.options.eagerStart === true ? { requestEagerStart: true } : {}),
        memo: { ...memo },
        typedSearchAttributes: [
          { key: channelsKey, value: channels },
          { key: statusKey, value: initialStatus },
          { key: tagsKey, value: request.tags ?? [] },
          { key: clientKey, value: memo.clientId },
        ],
      });
      return 'started';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
      throw err;
    }
  }

  /** Looks a notification up; `undefined` when no workflow with that id exists. */
  async lookup(id: string): Promise<NotificationLookup | undefined> {
    const handle = this.client.workflow.getHandle(id);
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    const lookup: NotificationLookup = {
      memo: description.memo,
      runStatus: description.status.name,
      startTime: description.startTime,
      closeTime: description.closeTime,
      statusFromSearchAttribute: description.typedSearchAttributes.get(statusKey) as NotificationStatus | undefined,
      pendingActivities: (description.raw.pendingActivities ?? []).map((a) => ({
        activityType: a.activityType?.name ?? undefined,
        attempt: a.attempt ?? 0,
        lastFailure: a.lastFailure?.message ?? undefined,
        lastFailureType: a.lastFailure?.applicationFailureInfo?.type ?? undefined,
        state: a.state !== undefined && a.state !== null ? String(a.state) : undefined,
      })),
    };
    try {
      if (description.status.name === 'COMPLETED') {
        lookup.state = (await handle.result()) as NotificationState;
      } else {
        lookup.state = await withTimeout(
          handle.query<NotificationState>(QUERY_STATUS),
          this.options.queryTimeoutMs ?? 3_000,
          'status query',
        );
      }
    } catch {
      // No workflow worker to answer the query (or it timed out): the search attribute still tells the status.
    }
    return lookup;
  }

  /** Memo of a notification's workflow (idempotency checks), or undefined when it does not exist. */
  async memo(id: string): Promise<Partial<NotificationMemo> | undefined> {
    try {
      const description = await this.client.workflow.getHandle(id).describe();
      return description.memo ?? {};
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Sends the cancel signal. */
  async cancel(id: string, reason?: string): Promise<void> {
    await this.client.workflow.getHandle(id).signal(SIGNAL_CANCEL, { reason });
  }

  /** Sends the retry signal. */
  async retry(id: string, reason?: string): Promise<void> {
    await this.client.workflow.getHandle(id).signal(SIGNAL_RETRY, { reason });
  }
}
