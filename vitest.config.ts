import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // tfjs backends are process-global; one fork per file keeps backend switches isolated.
    pool: 'forks',
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
});
