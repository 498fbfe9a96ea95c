import { describe, expect, it } from 'vitest';
import { startupPhases } from './reference.js';

describe('startupPhases', () => {
  it("reads the start-up phases from a worker's `workers running` log line among other lines", () => {
    const log = [
      '{"level":30,"msg":"workflow bundle read from cache","ms":12}',
      '{"level":30,"workflows":true,"channels":[],"startupMs":{"modules":1800,"connect":120,"createWorkers":450,"total":2370},"msg":"workers running"}',
    ].join('\n');
    expect(startupPhases(log)).toEqual({ modules: 1800, connect: 120, createWorkers: 450, total: 2370 });
  });

  it('gives nothing for a worker that logged no phases (an older checkout)', () => {
    expect(startupPhases('{"level":30,"msg":"workers running"}\n')).toBeUndefined();
  });
});
