import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { FAILURE_CONVERTER_PATH } from '../crypto/data-converter.js';
import { WORKFLOWS_PATH } from './create-workers.js';
import { bundleHash, loadOrBuildBundle, workflowSourceFiles } from './workflow-bundle-cache.js';

// Inside the repository, so that webpack resolves @temporalio/workflow from its node_modules.
const scratchRoot = join(fileURLToPath(new URL('../../', import.meta.url)), '.notify', 'tmp');
mkdirSync(scratchRoot, { recursive: true });
const scratch = mkdtempSync(join(scratchRoot, 'bundle-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('workflow bundle cache', () => {
  it('hashes every source the notification workflow imports, and nothing the gateway alone uses', () => {
    const files = workflowSourceFiles([WORKFLOWS_PATH, FAILURE_CONVERTER_PATH]).map((f) =>
      f.replace(/.*\/src\//, 'src/'),
    );
    expect(files).toContain('src/workflows/notification-workflow.ts');
    expect(files).toContain('src/shared/notification.ts');
    expect(files).toContain('src/crypto/failure-converter.mjs');
    expect(files).not.toContain('src/api/app.ts');
  });

  it('serves a restarted worker the stored bundle without bundling, and rebuilds when a workflow source changes', async () => {
    const src = join(scratch, 'wf');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'greeting.ts'), "export const greeting = 'hello';\n");
    writeFileSync(
      join(src, 'index.ts'),
      "import { greeting } from './greeting.js';\nexport async function greet(): Promise<string> { return greeting; }\n",
    );
    const inputs = { entries: [join(src, 'index.ts')], extra: ['v1'] };
    const dir = join(scratch, 'bundles');
    let builds = 0;
    const build = () => {
      builds++;
      return bundleWorkflowCode({
        workflowsPath: join(src, 'index.ts'),
        logger: {
          log: () => undefined,
          trace: () => undefined,
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: () => undefined,
        },
      });
    };

    const first = await loadOrBuildBundle(inputs, dir, build);
    expect(first.source).toBe('built');
    expect(first.storeError).toBeUndefined();
    expect(first.bundle.code).toContain('hello');

    // What a restarted worker process does: same inputs, nothing in memory.
    const second = await loadOrBuildBundle(inputs, dir, build);
    expect(second.source).toBe('cache');
    expect(second.bundle.code).toBe(first.bundle.code);
    expect(builds).toBe(1);

    // A change in an imported file (not only the entry) is a new bundle.
    writeFileSync(join(src, 'greeting.ts'), "export const greeting = 'bonjour';\n");
    expect(bundleHash(inputs)).not.toBe(first.hash);
    const third = await loadOrBuildBundle(inputs, dir, build);
    expect(third.source).toBe('built');
    expect(third.bundle.code).toContain('bonjour');
    expect(builds).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith('.js'))).toHaveLength(2);
  }, 180_000);

  it('still starts when the bundle directory is not writable, reporting why nothing was stored', async () => {
    const blocker = join(scratch, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const res = await loadOrBuildBundle({ entries: [WORKFLOWS_PATH], extra: ['ro'] }, join(blocker, 'bundles'), () =>
      Promise.resolve({ code: 'code', sourceMap: '' }),
    );
    expect(res.source).toBe('built');
    expect(res.bundle.code).toBe('code');
    expect(res.storeError).toMatch(/ENOTDIR|EEXIST/);
  });
});
