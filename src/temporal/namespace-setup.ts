import Long from 'long';
import { Connection } from '@temporalio/client';
import type { TemporalTls } from '../tls/transport-security.js';
import { SEARCH_ATTRIBUTES } from '../shared/notification.js';

/** Search attribute types as the notification workflow declares them (src/shared/notification.ts). */
type AttributeType = (typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES]['type'];

/** `IndexedValueType` numbers of the Temporal API (temporal.api.enums.v1.IndexedValueType). */
const INDEXED_VALUE_TYPE: Record<AttributeType, number> = { Keyword: 2, KeywordList: 7 };
const TYPE_NAMES: Record<number, string> = {
  1: 'Text',
  2: 'Keyword',
  3: 'Int',
  4: 'Double',
  5: 'Bool',
  6: 'Datetime',
  7: 'KeywordList',
};

/** What {@link ensureNamespace} sets up. */
export interface NamespaceSetupOptions {
  address: string;
  namespace: string;
  /**
   * Retention of closed workflows. It bounds how long a finished notification id stays deduplicated
   * (REJECT_DUPLICATE), so it must exceed the Kafka redelivery window.
   */
  retentionHours: number;
  tls?: TemporalTls;
  /** How long to wait for the server and for a new namespace to become usable (default 120 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** What {@link ensureNamespace} did (for logs and tests). */
export interface NamespaceSetupResult {
  registered: boolean;
  retentionUpdated: boolean;
  addedSearchAttributes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;

async function retrying<T>(what: string, deadline: number, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      await sleep(1_000);
    }
  }
}

/**
 * Resolves once the Temporal frontend at `address` reports SERVING (gRPC health check); rejects after `timeoutMs`.
 * `abortIf` may throw to stop early (e.g. the server process died).
 */
export async function waitForTemporalHealth(
  address: string,
  timeoutMs: number,
  abortIf?: () => void,
  tls?: TemporalTls,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    abortIf?.();
    try {
      // No retry interceptor: this loop retries, and a pending gRPC retry must not outlive the closed connection.
      const connection = await Connection.connect({ address, connectTimeout: '2s', tls, interceptors: [] });
      try {
        const health = await connection.withDeadline(Date.now() + 3_000, () =>
          connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' }),
        );
        if (Number(health.status) === 1) return; // SERVING
        last = new Error(`health status ${String(health.status)}`);
      } finally {
        await connection.close();
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `Temporal at ${address} is not SERVING after ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`,
      );
    await sleep(500);
  }
}

/**
 * Registers the namespace with its retention and the custom search attributes the notification workflow sets,
 * through the Temporal operator API: what a fresh Temporal cluster needs before notify can use it. Idempotent (safe at
 * every start): an existing namespace keeps its settings except a retention shorter than asked for, which is raised;
 * an attribute registered with another type is an error (types cannot change in place).
 */
export async function ensureNamespace(opts: NamespaceSetupOptions): Promise<NamespaceSetupResult> {
  const log = opts.log ?? (() => undefined);
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  await waitForTemporalHealth(opts.address, opts.timeoutMs ?? 120_000, undefined, opts.tls);
  const connection = await Connection.connect({ address: opts.address, tls: opts.tls, interceptors: [] });
  const result: NamespaceSetupResult = { registered: false, retentionUpdated: false, addedSearchAttributes: [] };
  try {
    const wanted = opts.retentionHours * 3600;
    const describe = () => connection.workflowService.describeNamespace({ namespace: opts.namespace });
    const current = await retrying('describing the namespace', deadline, async () => {
      try {
        return Number((await describe()).config?.workflowExecutionRetentionTtl?.seconds ?? 0);
      } catch (err) {
        if (grpcCode(err) === NOT_FOUND) return undefined;
        throw err;
      }
    });
    if (current === undefined) {
      log(`registering namespace ${opts.namespace} (retention ${opts.retentionHours} h)`);
      await retrying('registering the namespace', deadline, () =>
        connection.workflowService
          .registerNamespace({
            namespace: opts.namespace,
            description: 'notify: one workflow per notification',
            workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(wanted) },
          })
          .catch((err: unknown) => {
            if (grpcCode(err) !== ALREADY_EXISTS) throw err; // another process registered it first
            return {};
          }),
      );
      result.registered = true;
      // Every frontend's namespace cache refreshes on its own schedule: wait until this one knows it.
      await retrying(`namespace ${opts.namespace} did not become visible`, deadline, describe);
    } else if (current < wanted) {
      await connection.workflowService.updateNamespace({
        namespace: opts.namespace,
        config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(wanted) } },
      });
      log(`namespace ${opts.namespace}: retention raised to ${opts.retentionHours} h (was ${current / 3600} h)`);
      result.retentionUpdated = true;
    }

    const list = await retrying('listing search attributes', deadline, () =>
      connection.operatorService.listSearchAttributes({ namespace: opts.namespace }),
    );
    const existing = list.customAttributes ?? {};
    const missing: Record<string, number> = {};
    for (const attr of Object.values(SEARCH_ATTRIBUTES)) {
      const have = existing[attr.name];
      const want = INDEXED_VALUE_TYPE[attr.type];
      if (have === undefined || have === null) missing[attr.name] = want;
      else if (Number(have) !== want) {
        throw new Error(
          `Search attribute ${attr.name} exists in namespace ${opts.namespace} as ${TYPE_NAMES[Number(have)] ?? String(have)}, but notify needs ${attr.type}: remove it (temporal operator search-attribute remove) or use another namespace.`,
        );
      }
    }
    if (Object.keys(missing).length > 0) {
      log(`adding search attributes ${Object.keys(missing).join(', ')} to namespace ${opts.namespace}`);
      await retrying('adding search attributes', deadline, () =>
        connection.operatorService
          .addSearchAttributes({ namespace: opts.namespace, searchAttributes: missing })
          .catch((err: unknown) => {
            if (grpcCode(err) !== ALREADY_EXISTS) throw err;
            return {};
          }),
      );
      result.addedSearchAttributes = Object.keys(missing).sort();
    }
    return result;
  } finally {
    await connection.close();
  }
}
