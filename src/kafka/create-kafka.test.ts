import { logLevel } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { kafkaLogHandler } from './create-kafka.js';

/** pino level names by number, for readable assertions. */
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function capture(): { logger: pino.Logger; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        const parsed = JSON.parse(line) as { level: number; msg: string };
        lines.push({ level: LEVELS[parsed.level] ?? String(parsed.level), msg: parsed.msg });
      },
    },
  );
  return { logger, lines };
}

/** Entries shaped exactly as kafkajs 2.2.4 logs them on a clean start against a fresh broker. */
const coordinatorLoading = {
  namespace: 'Connection',
  level: logLevel.ERROR,
  label: 'ERROR',
  log: {
    message: 'Response JoinGroup(key: 11, version: 5)',
    broker: '127.0.0.1:9092',
    clientId: 'notify',
    error: "The coordinator is loading and hence can't process requests for this group",
    correlationId: 3,
    size: 24,
  },
};
const coordinatorNotAvailable = {
  namespace: 'Connection',
  level: logLevel.ERROR,
  label: 'ERROR',
  log: {
    message: 'Response GroupCoordinator(key: 10, version: 2)',
    broker: '127.0.0.1:9092',
    clientId: 'notify',
    error: 'The group coordinator is not available',
    correlationId: 1,
    size: 55,
  },
};
const idempotentRetries = {
  namespace: 'Producer',
  level: logLevel.WARN,
  label: 'WARN',
  log: { message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' },
};
const realError = {
  namespace: 'Connection',
  level: logLevel.ERROR,
  label: 'ERROR',
  log: {
    message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092',
    broker: '127.0.0.1:9092',
    clientId: 'notify',
  },
};
const realWarning = {
  namespace: 'Admin',
  level: logLevel.WARN,
  label: 'WARN',
  log: { message: 'Could not create topics', error: 'Topic authorization failed' },
};

describe('kafkajs log routing', () => {
  it('logs the coordinator start-up transients and the idempotent-retries warning at debug during start-up', () => {
    const { logger, lines } = capture();
    const handle = kafkaLogHandler(logger);
    for (const entry of [coordinatorLoading, coordinatorNotAvailable, idempotentRetries]) handle(entry);
    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug', 'debug']);
  });

  it('keeps real errors and warnings loud, also during start-up', () => {
    const { logger, lines } = capture();
    const handle = kafkaLogHandler(logger);
    handle(realError);
    handle(realWarning);
    expect(lines).toEqual([
      { level: 'error', msg: realError.log.message },
      { level: 'warn', msg: realWarning.log.message },
    ]);
  });

  it('logs a coordinator error as an error again once the start-up window is over', () => {
    const { logger, lines } = capture();
    let clock = 1_000;
    const handle = kafkaLogHandler(logger, { startupWindowMs: 60_000, now: () => clock });
    handle(coordinatorLoading);
    clock += 60_000;
    handle(coordinatorLoading);
    expect(lines.map((l) => l.level)).toEqual(['debug', 'error']);
  });
});
