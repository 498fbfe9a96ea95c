import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandWorks, goInstall } from '../../dev/infra/process.js';
import { parseTimes } from './wrk.js';
import { percentile } from './stats.js';

/**
 * Vegeta (https://github.com/tsenart/vegeta, Go) as the open-loop HTTP generator of the "p99 at 80 % of the maximum"
 * figure: it issues requests at a fixed rate whatever the answers do, from its own process and threads, where the Node
 * generator (`bench/lib/open-loop.ts`) could not keep a 3–4k/s schedule on this box. Latency is counted from each
 * request's scheduled time (start + seq ÷ rate), so a generator that fell behind shows it as issue lag instead of
 * hiding it.
 */

/** The release `go install` builds into `.notify/bin` (v12.12.0 builds with the Go this project asks for). */
export const VEGETA_VERSION = 'v12.12.0';
const VEGETA_MODULE = 'github.com/tsenart/vegeta/v12';

/**
 * Returns the vegeta binary: `<binDir>/vegeta` when cached, else builds it with `go install` (first run only, about
 * a minute), streaming go's output. Throws naming the fix when Go is missing.
 */
export async function ensureVegeta(binDir: string, log: (m: string) => void): Promise<string> {
  const cached = join(binDir, 'vegeta');
  if (existsSync(cached) && commandWorks(cached, ['-version']).ok) return cached;
  if (!commandWorks('go', ['version']).ok)
    throw new Error(
      `vegeta (the open-loop generator) is not in ${binDir} and Go is not installed to build it: install Go, or run \`go install ${VEGETA_MODULE}@${VEGETA_VERSION}\` with GOBIN=${binDir}`,
    );
  log(`building vegeta ${VEGETA_VERSION} with go install into ${binDir} (first run only)`);
  return goInstall({
    module: VEGETA_MODULE,
    version: VEGETA_VERSION,
    binary: 'vegeta',
    binDir,
    log,
    label: 'go install vegeta',
  });
}

/** One constant-rate attack. */
export interface VegetaOptions {
  url: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  ratePerSec: number;
  durationMs: number;
  /** Upper bound of open connections (vegeta `-max-connections`). */
  maxConnections: number;
}

/** What one attack measured, latency from each request's scheduled send time. */
export interface VegetaResult {
  offeredPerSec: number;
  acceptedPerSec: number;
  issued: number;
  failed: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** p99 of (actual send − scheduled send): ≥ 10 ms means the generator did not keep its schedule. */
  issueLagP99Ms: number;
  /** vegeta's own CPU seconds (user + system) over the attack. */
  generatorCpuSec: number;
}

/** One line of `vegeta encode --to json`: the fields this module reads. */
interface VegetaLine {
  seq: number;
  code: number;
  timestamp: string;
  latency: number;
  error?: string;
}

/**
 * Microseconds since the epoch of an RFC 3339 timestamp with up to nanosecond digits (Date.parse keeps only ms;
 * nanoseconds since the epoch no longer fit a double exactly, microseconds do).
 */
export function rfc3339Us(ts: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (m === null) throw new Error(`not an RFC 3339 timestamp: ${ts}`);
  const [, head = '', frac = '', zone = 'Z'] = m;
  const ms = Date.parse(`${head}${zone}`);
  return ms * 1e3 + Number(frac.padEnd(6, '0').slice(0, 6));
}

/**
 * Summarises `vegeta encode --to json` output (one result per line). Request `seq` was scheduled at
 * first-send + seq ÷ rate; its latency is counted from then, and its lateness is the issue lag.
 */
export function summarizeVegeta(
  jsonLines: string,
  ratePerSec: number,
  durationMs: number,
  generatorCpuSec: number,
): VegetaResult {
  const lines = jsonLines
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as VegetaLine);
  if (lines.length === 0) throw new Error('vegeta recorded no request');
  const sentUs = lines.map((l) => rfc3339Us(l.timestamp));
  // Scheduled time of seq 0: the earliest (send − seq ÷ rate), so no request counts as early.
  const intervalUs = 1e6 / ratePerSec;
  const t0 = lines.reduce((min, l, i) => Math.min(min, (sentUs[i] ?? 0) - l.seq * intervalUs), Infinity);
  const fromSchedule: number[] = [];
  const lag: number[] = [];
  const statuses: Record<string, number> = {};
  let accepted = 0;
  for (const [i, l] of lines.entries()) {
    const lateMs = ((sentUs[i] ?? 0) - (t0 + l.seq * intervalUs)) / 1e3;
    lag.push(lateMs);
    // vegeta's latency is in nanoseconds.
    fromSchedule.push(lateMs + l.latency / 1e6);
    const key = l.code === 0 ? `error: ${l.error ?? 'unknown'}` : String(l.code);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (l.code >= 200 && l.code < 300) accepted++;
  }
  fromSchedule.sort((a, b) => a - b);
  lag.sort((a, b) => a - b);
  return {
    offeredPerSec: ratePerSec,
    acceptedPerSec: accepted / (durationMs / 1000),
    issued: lines.length,
    failed: lines.length - accepted,
    statuses,
    p50Ms: percentile(fromSchedule, 50),
    p99Ms: percentile(fromSchedule, 99),
    p999Ms: percentile(fromSchedule, 99.9),
    issueLagP99Ms: percentile(lag, 99),
    generatorCpuSec,
  };
}

/** Runs one attack with the given vegeta binary and summarises it ({@link summarizeVegeta}). */
export async function runVegeta(vegeta: string, options: VegetaOptions): Promise<VegetaResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vegeta-'));
  const targets = join(dir, 'targets.json');
  const header: Record<string, string[]> = { 'content-type': ['application/json'] };
  for (const [k, v] of Object.entries(options.headers)) header[k] = [v];
  writeFileSync(
    targets,
    `${JSON.stringify({
      method: 'POST',
      url: new URL(options.path, options.url).toString(),
      body: Buffer.from(options.body).toString('base64'),
      header,
    })}\n`,
  );
  const results = join(dir, 'results.bin');
  const args = [
    'attack',
    '-format=json',
    `-targets=${targets}`,
    `-rate=${Math.round(options.ratePerSec)}/1s`,
    `-duration=${Math.round(options.durationMs)}ms`,
    `-max-connections=${options.maxConnections}`,
    '-max-body=0',
    '-timeout=10s',
    `-output=${results}`,
  ];
  const quoted = [vegeta, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // `times` prints the CPU time of the shell's children: vegeta's own cost, to show its headroom.
  const out = await shell(`${quoted}; rc=$?; times; exit $rc`);
  const json = join(dir, 'results.jsonl');
  await shell(`'${vegeta}' encode --to json --output '${json}' '${results}'`);
  return summarizeVegeta(readFileSync(json, 'utf8'), options.ratePerSec, options.durationMs, parseTimes(out));
}

async function shell(script: string): Promise<string> {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`vegeta exited with ${String(code)}:\n${out.slice(-2_000)}`);
  return out;
}
