import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend, type BackendName } from '../backend.js';
import { runDemo } from './demo.js';
import { formatVerifyLine, formatVerifySummary, verifyFixtures } from './verify.js';

const HELP = `seqstream <command> [options]

Commands:
  verify <file-or-folder>...   check PyTorch reference fixtures (see fixtures README) on this build
      --engine fused|tfjs|all  compute path(s) to check (default all)
  demo                          a live sensor stream into an LSTM that learns online (npm start)
      --events N (default 400) --interval-ms N (default 15)
  backend                       print the tfjs backend in use

Options:
  --backend tensorflow|wasm|cpu  tfjs backend (default: SEQSTREAM_BACKEND, else the first that loads)
  --help, --version
`;

/**
 * Runs the CLI with `argv` (without node and script) and resolves to the exit code.
 *
 * @example
 * ```ts
 * const code = await main(['verify', 'test/fixtures/pytorch']);
 * ```
 */
export async function main(argv: readonly string[], out: (s: string) => void = (s) => console.log(s)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        backend: { type: 'string' },
        engine: { type: 'string' },
        events: { type: 'string' },
        'interval-ms': { type: 'string' },
      },
    });
  } catch (err) {
    out(`seqstream: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    out(pkg.version);
    return 0;
  }
  if (values.help || !command) {
    out(HELP);
    return command || values.help ? 0 : 2;
  }
  const backend = await initBackend(values.backend as BackendName | undefined);
  switch (command) {
    case 'backend':
      out(backend);
      return 0;
    case 'verify': {
      if (rest.length === 0) {
        out('seqstream verify: give at least one fixture file or folder');
        return 2;
      }
      const engine = values.engine ?? 'all';
      if (!['fused', 'tfjs', 'all'].includes(engine)) {
        out(`seqstream verify: --engine must be fused, tfjs or all, received ${engine}`);
        return 2;
      }
      out(`backend ${backend}; engines ${engine === 'all' ? 'fused, tfjs' : engine}`);
      const lines = verifyFixtures(rest, {
        engines: engine === 'all' ? ['fused', 'tfjs'] : [engine as 'fused' | 'tfjs'],
        onLine: (line) => out(formatVerifyLine(line)),
      });
      out(formatVerifySummary(lines));
      return lines.some((l) => l.status === 'fail') ? 1 : 0;
    }
    case 'demo': {
      const events = values.events === undefined ? undefined : Number(values.events);
      const intervalMs = values['interval-ms'] === undefined ? undefined : Number(values['interval-ms']);
      if (events !== undefined && !(Number.isInteger(events) && events > 0)) {
        out(`seqstream demo: --events must be a positive integer, received ${values.events}`);
        return 2;
      }
      if (intervalMs !== undefined && !(Number.isFinite(intervalMs) && intervalMs >= 0)) {
        out(`seqstream demo: --interval-ms must be a number >= 0, received ${values['interval-ms']}`);
        return 2;
      }
      out(`backend ${backend}`);
      await runDemo({ events, intervalMs, print: out });
      return 0;
    }
    default:
      out(`seqstream: unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

// Run when executed directly (npm start / tsx), not when imported by the bin wrapper or tests.
if (process.argv[1] && /cli[\\/]main\.(ts|js)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`seqstream: ${(err as Error & { code?: string }).code ?? 'error'}: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
