import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) this summary reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** One frame's self time (time spent in the function itself, not in what it called). */
export interface FrameSelfTime {
  frame: string;
  selfMs: number;
  share: number;
}

/**
 * Self time per frame (function + file:line), largest first; `(idle)` is left out of the shares. `skipMs` leaves out
 * the first milliseconds of the profile (start-up: module loading, connecting), so the figures show the request path;
 * `untilMs` (from the profile's start) leaves out what came after the window of interest.
 */
export function topFrames(
  path: string,
  limit = 20,
  root = process.cwd(),
  skipMs = 0,
  untilMs = Infinity,
): { totalMs: number; idleMs: number; frames: FrameSelfTime[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time since the previous sample: attribute it to sample i's node.
  let elapsedUs = 0;
  for (let i = 0; i < samples.length; i++) {
    elapsedUs += deltas[i] ?? 0;
    if (elapsedUs < skipMs * 1000) continue;
    if (elapsedUs >= untilMs * 1000) break;
    selfUs.set(samples[i] ?? 0, (selfUs.get(samples[i] ?? 0) ?? 0) + Math.max(0, deltas[i] ?? 0));
  }
  const byFrame = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const file = url === '' ? '' : url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
    const key = `${functionName || '(anonymous)'} ${file}${file !== '' ? `:${lineNumber + 1}` : ''}`.trim();
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
  }
  const frames = [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, frames };
}

/** Self time grouped by package (node_modules/<pkg>), notify source, node internals or V8 (GC, program). */
export function selfTimeByArea(
  path: string,
  root = process.cwd(),
  skipMs = 0,
  untilMs = Infinity,
): Array<{ area: string; selfMs: number; share: number }> {
  const { frames, totalMs } = topFrames(path, Number.MAX_SAFE_INTEGER, root, skipMs, untilMs);
  const areas = new Map<string, number>();
  for (const f of frames) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.frame);
    const area =
      m?.[1] ??
      // Also another checkout's sources (`--gateway-from /tmp/before` → `../../tmp/before/src/…`).
      (/ (?:[^ ]*\/)?(?:src|bench)\//.test(f.frame)
        ? 'notify (src/)'
        : /node:/.test(f.frame)
          ? 'node internals'
          : f.frame.startsWith('(')
            ? (f.frame.split(' ')[0] ?? f.frame)
            : 'other');
    areas.set(area, (areas.get(area) ?? 0) + f.selfMs);
  }
  return [...areas]
    .sort((a, b) => b[1] - a[1])
    .map(([area, selfMs]) => ({ area, selfMs, share: totalMs > 0 ? selfMs / totalMs : 0 }));
}
