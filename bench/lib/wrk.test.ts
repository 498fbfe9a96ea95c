import { describe, expect, it } from 'vitest';
import { parseTimes, parseWrkJson } from './wrk.js';

describe('wrk output parsing', () => {
  it('takes the children line of the shell times builtin as the generator CPU', () => {
    expect(parseTimes('0m0.01s 0m0.00s\n0m1.50s 1m0.25s\n')).toBeCloseTo(61.75, 5);
  });

  it('counts status errors out of the accepted rate and converts microseconds', () => {
    const out =
      'Running 1s test\nWRK_JSON {"requests":1000,"durationUs":2000000,"connect":0,"read":0,"write":0,"status":100,"timeout":0,"p50":1500,"p90":3000,"p99":9000,"max":12000}\n';
    const r = parseWrkJson(out, 1, 1);
    expect(r.requestsPerSec).toBe(500);
    expect(r.okPerSec).toBe(450);
    expect(r.p99Ms).toBe(9);
    expect(r.generatorCpuShare).toBe(0.5);
  });

  it('throws with the output when wrk printed no summary', () => {
    expect(() => parseWrkJson('unable to connect', 1, 0)).toThrow(/no summary/);
  });
});
