#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds dist/ through the `prepare` script.
import('../dist/cli/main.js').then((m) => {
  m.exitQuietlyOnClosedStdout();
  return m.main(process.argv.slice(2));
}).then(
  (code) => process.exit(code ?? 0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
