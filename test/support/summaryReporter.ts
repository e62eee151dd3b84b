import type { RunnerTask, RunnerTestFile } from 'vitest';
import type { Reporter } from 'vitest/reporters';

/** Prints a plain closing line, `N passed, M failed, K skipped`, after vitest's own summary. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const visit = (task: RunnerTask) => {
      if (task.type === 'test') {
        if (task.mode === 'skip' || task.mode === 'todo') skipped++;
        else if (task.result?.state === 'pass') passed++;
        else if (task.result?.state === 'fail') failed++;
        else skipped++;
      } else if ('tasks' in task) {
        for (const t of task.tasks) visit(t);
      }
    };
    for (const f of files) {
      visit(f);
      // A file that failed to load (syntax error, failed hook) counts as a failure.
      if (f.result?.state === 'fail' && f.tasks.length === 0) failed++;
    }
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
