import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain closing line `Tests: N passed, N failed, N skipped` after vitest's own summary, so CI logs
 * state the outcome in one greppable line. A file that failed outside its tests (a `beforeAll` that threw, which
 * leaves its tests skipped) is added as `N files failed`, so the line never reads "0 failed" for a failed run.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let failedFiles = 0;
    for (const module of testModules) {
      const testsFailed = [...module.children.allTests()].some((t) => t.result().state === 'failed');
      if (module.state() === 'failed' && !testsFailed && [...module.children.allTests()].length > 0) failedFiles++;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    const files =
      failedFiles > 0 ? `, ${failedFiles} file${failedFiles === 1 ? '' : 's'} failed outside its tests` : '';
    console.log(`\nTests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}${files}`);
  }
}
