import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** The repository (or image) root: two levels above this file (`src/workers/`). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where built workflow bundles are kept: WORKFLOW_BUNDLE_DIR, else `<NOTIFY_HOME or .notify>/workflow-bundles`
 * (outside `src/`; the Docker image builds into `/app/build/workflow-bundles` at image build time).
 */
export function workflowBundleDir(config: { WORKFLOW_BUNDLE_DIR?: string; NOTIFY_HOME?: string }): string {
  if (config.WORKFLOW_BUNDLE_DIR !== undefined) return resolve(ROOT, config.WORKFLOW_BUNDLE_DIR);
  const home =
    config.NOTIFY_HOME === undefined
      ? join(ROOT, '.notify')
      : isAbsolute(config.NOTIFY_HOME)
        ? config.NOTIFY_HOME
        : resolve(ROOT, config.NOTIFY_HOME);
  return join(home, 'workflow-bundles');
}

// Relative module specifiers of static imports/exports and dynamic imports (type-only imports are included: harmless).
const IMPORT_PATTERN =
  /(?:import|export)\s[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|import\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function resolveLocal(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && !c.endsWith('/'));
}

/** Every local source file reachable from `entries` through relative imports (the files the bundle is made of). */
export function workflowSourceFiles(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_PATTERN)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const target = spec === undefined ? undefined : resolveLocal(file, spec);
      if (target !== undefined && !seen.has(target)) queue.push(target);
    }
  }
  return [...seen].sort();
}

/** What determines a bundle: its entry files (and everything they import), plus anything else that changes the output. */
export interface BundleInputs {
  /** Entry modules (the workflows index, the failure converter). */
  entries: readonly string[];
  /** Other inputs as strings: interceptor module names, the lock file's contents (library versions). */
  extra: readonly string[];
}

/** SHA-256 over the content of every workflow source file (by path relative to the root) and the extra inputs. */
export function bundleHash(inputs: BundleInputs, root = ROOT): string {
  const hash = createHash('sha256');
  for (const file of workflowSourceFiles(inputs.entries)) {
    hash
      .update(file.startsWith(root) ? file.slice(root.length) : file)
      .update('\0')
      .update(readFileSync(file))
      .update('\0');
  }
  for (const e of inputs.extra) hash.update(e).update('\0');
  return hash.digest('hex').slice(0, 32);
}

/** The lock file's content (library versions are bundle inputs); empty when there is none. */
export function lockFileInput(root = ROOT): string {
  const lock = join(root, 'package-lock.json');
  return existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).digest('hex') : '';
}

/** Result of {@link loadOrBuildBundle}. */
export interface CachedBundle {
  bundle: WorkflowBundleWithSourceMap;
  /** `cache`: read from disk; `built`: bundled now (and stored when the directory is writable). */
  source: 'cache' | 'built';
  path: string;
  hash: string;
  /** Why a freshly built bundle could not be stored (read-only directory); undefined when stored or read. */
  storeError?: string;
}

/**
 * Returns the bundle for `inputs` from `dir/<hash>.js` when present, else builds it with `build` and stores it there
 * atomically (write to a temp file, then rename), so a restarted worker skips webpack entirely. A directory that is
 * not writable only costs the rebuild at every start (reported in `storeError`), never a failed start.
 */
export async function loadOrBuildBundle(
  inputs: BundleInputs,
  dir: string,
  build: () => Promise<WorkflowBundleWithSourceMap>,
): Promise<CachedBundle> {
  const hash = bundleHash(inputs);
  const path = join(dir, `${hash}.js`);
  const mapPath = join(dir, `${hash}.js.map`);
  if (existsSync(path)) {
    return {
      bundle: { code: readFileSync(path, 'utf8'), sourceMap: existsSync(mapPath) ? readFileSync(mapPath, 'utf8') : '' },
      source: 'cache',
      path,
      hash,
    };
  }
  const bundle = await build();
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(`${mapPath}.${process.pid}.tmp`, bundle.sourceMap);
    renameSync(`${mapPath}.${process.pid}.tmp`, mapPath);
    writeFileSync(tmp, bundle.code);
    renameSync(tmp, path);
    return { bundle, source: 'built', path, hash };
  } catch (err) {
    return { bundle, source: 'built', path, hash, storeError: err instanceof Error ? err.message : String(err) };
  }
}
