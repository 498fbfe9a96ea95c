import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as protos from '@temporalio/proto';

// @temporalio/proto is CommonJS whose exports Node's ESM loader cannot name statically: load it with require().
const { temporal } = createRequire(import.meta.url)('@temporalio/proto') as typeof protos;
type History = protos.temporal.api.history.v1.History;
const { History } = temporal.api.history.v1;

/**
 * A captured workflow history as stored in `test/replay/histories/*.json`: the protobuf message as a plain object
 * (`History.toObject` with enum names, string longs and base64 bytes). Not `historyToJSON`: with the protobufjs copies
 * npm installs here (@temporalio/common and @temporalio/proto each get their own), the SDK's proto-JSON helpers fail
 * with "type must be a Type"; toObject/fromObject use @temporalio/proto's own copy.
 */
export interface HistoryFile {
  /** What the scenario did, for whoever reads a failing replay. */
  scenario: string;
  workflowId: string;
  capturedAt: string;
  history: Record<string, unknown>;
}

/** Serialises a history fetched from the server (`handle.fetchHistory()`). */
export function historyToFile(
  scenario: string,
  workflowId: string,
  history: protos.temporal.api.history.v1.IHistory,
): HistoryFile {
  const message = History.decode(History.encode(history).finish());
  return {
    scenario,
    workflowId,
    capturedAt: new Date().toISOString(),
    history: History.toObject(message, { longs: String, enums: String, bytes: String }),
  };
}

/** The stored history as the protobuf message `Worker.runReplayHistories` takes. */
export function historyFromFile(file: HistoryFile): History {
  return History.fromObject(file.history);
}

/** Every fixture under `dir`, sorted by file name. */
export function readHistoryFiles(dir: string): Array<{ file: string; content: HistoryFile }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, content: JSON.parse(readFileSync(join(dir, file), 'utf8')) as HistoryFile }));
}
