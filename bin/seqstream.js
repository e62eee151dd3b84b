#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds dist/ through the `prepare` script.
import('../dist/cli/main.js').then((m) => {
  m.exitQuietlyOnClosedStdout();
  return m.main(process.argv.slice(2));
}).then(
  (code) => process.exit(code ?? 0),
  (err) => {
    // same line as `tsx src/cli/main.ts`: the stable code first, so scripts can match on it
    console.error(err instanceof Error ? `seqstream: ${err.code ?? 'error'}: ${err.message}` : err);
    process.exit(1);
  },
);
