import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `wrk` (https://github.com/wg/wrk, Debian package `wrk`) as the out-of-process HTTP load generator: written in C,
 * its own process, so the benchmark's own event loop never limits what the servers under test are offered.
 */

/** The fix printed when wrk is missing and cannot be installed. */
export const WRK_FIX =
  'install it with `sudo apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk` (macOS), then re-run the bench';

function wrkOnPath(): boolean {
  // `wrk -v` prints its version and exits 1; a missing binary is ENOENT.
  const res = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return res.error === undefined && /wrk/i.test(`${res.stdout}${res.stderr}`);
}

/**
 * Makes sure `wrk` is on PATH: installs Debian's package when running as root on a system with apt-get, else throws
 * an error naming the fix. Returns how it was found.
 */
export function ensureWrk(log: (m: string) => void): 'present' | 'installed' {
  if (wrkOnPath()) return 'present';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (isRoot && apt) {
    log('wrk not found: installing Debian package wrk (apt-get install -y wrk)');
    const res = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk'], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (res.status === 0 && wrkOnPath()) return 'installed';
    throw new Error(
      `wrk is not installed and \`apt-get install -y wrk\` failed (${(res.stderr ?? '').trim().split('\n').pop() ?? ''}): ${WRK_FIX}`,
    );
  }
  throw new Error(`wrk (the HTTP load generator of the gateway phase) is not installed: ${WRK_FIX}`);
}

/** One wrk run. */
export interface WrkOptions {
  url: string;
  path: string;
  method?: 'POST' | 'GET';
  body?: string;
  headers?: Record<string, string>;
  threads: number;
  connections: number;
  durationSec: number;
  /** Per-request timeout (wrk `--timeout`), seconds. */
  timeoutSec?: number;
}

/** What wrk measured (its own `done()` summary, printed as JSON by the Lua script). */
export interface WrkResult {
  requests: number;
  durationSec: number;
  /** All answers per second (wrk's Requests/sec). */
  requestsPerSec: number;
  /** 2xx/3xx answers per second (wrk counts status ≥ 400 as `errors.status`). */
  okPerSec: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU seconds (user + system) the wrk process used, and its share of `threads` cores over the run. */
  generatorCpuSec: number;
  generatorCpuShare: number;
}

const LUA = `
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = os.getenv("WRK_METHOD")
for k, v in string.gmatch(os.getenv("WRK_HEADERS") or "", "([^\\n:]+):([^\\n]*)") do wrk.headers[k] = v end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

let scriptDir: string | undefined;

function luaScript(): string {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'notify-wrk-'));
  const path = join(scriptDir, 'post.lua');
  writeFileSync(path, LUA);
  return path;
}

/** Parses the shell's `times` output (two lines: shell, then children; `XmY.YYs XmY.YYs`) into children CPU seconds. */
export function parseTimes(output: string): number {
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => /\d+m[\d.]+s/.test(l));
  const last = lines[lines.length - 1] ?? '';
  let total = 0;
  for (const m of last.matchAll(/(\d+)m([\d.]+)s/g)) total += Number(m[1]) * 60 + Number(m[2]);
  return total;
}

/** Parses the `WRK_JSON {…}` line of the Lua `done()` callback; throws with wrk's output when there is none. */
export function parseWrkJson(output: string, threads: number, cpuSec: number): WrkResult {
  const line = /WRK_JSON (\{.*\})/.exec(output)?.[1];
  if (line === undefined) throw new Error(`wrk printed no summary:\n${output.slice(-2_000)}`);
  const j = JSON.parse(line) as Record<string, number>;
  const n = (k: string) => j[k] ?? 0;
  const durationSec = n('durationUs') / 1e6;
  const bad = n('status');
  return {
    requests: n('requests'),
    durationSec,
    requestsPerSec: durationSec > 0 ? n('requests') / durationSec : 0,
    okPerSec: durationSec > 0 ? Math.max(0, n('requests') - bad) / durationSec : 0,
    errors: { connect: n('connect'), read: n('read'), write: n('write'), status: bad, timeout: n('timeout') },
    p50Ms: n('p50') / 1000,
    p90Ms: n('p90') / 1000,
    p99Ms: n('p99') / 1000,
    maxMs: n('max') / 1000,
    generatorCpuSec: cpuSec,
    generatorCpuShare: durationSec > 0 ? cpuSec / (durationSec * threads) : Number.NaN,
  };
}

/** Runs wrk once (closed loop: `connections` requests in flight) and returns its summary and its own CPU use. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const dir = (scriptDir ??= mkdtempSync(join(tmpdir(), 'notify-wrk-')));
  const bodyFile = join(dir, `body-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(bodyFile, options.body ?? '');
  const headers = {
    ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    ...(options.headers ?? {}),
  };
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSec}s`,
    `--timeout`,
    `${options.timeoutSec ?? 10}s`,
    '-s',
    luaScript(),
    new URL(options.path, options.url).toString(),
  ];
  // `times` (POSIX shell builtin) prints the CPU time of the shell's children: wrk's own cost, to show its headroom.
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('sh', ['-c', `wrk ${quoted}; rc=$?; times; exit $rc`], {
    env: {
      ...process.env,
      WRK_BODY_FILE: bodyFile,
      WRK_METHOD: options.method ?? 'POST',
      WRK_HEADERS: Object.entries(headers)
        .map(([k, v]) => `${k}:${v}`)
        .join('\n'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`wrk exited with ${String(code)}:\n${out.slice(-2_000)}`);
  return parseWrkJson(out, options.threads, parseTimes(out));
}
