import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend, type BackendName } from '../backend.js';
import type { PcmEncoding } from '../adapters/audioFromPcm.js';
import type { HeadActivation } from '../cells/types.js';
import { InvalidOptionError } from '../errors.js';
import { runAudioCommand } from './audioCommand.js';
import { runDemo } from './demo.js';
import { loadModelFile } from './loadModelFile.js';
import { runStreamCommand } from './streamCommand.js';
import { formatVerifyLine, formatVerifySummary, verifyFixtures } from './verify.js';

const HELP = `seqstream <command> [options]

Commands:
  verify <file-or-folder>...   check PyTorch reference fixtures (see fixtures README) on this build
      --engine fused|tfjs|all  compute path(s) to check (default all)
  demo                          a live sensor stream into an LSTM that learns online (npm start)
      --events N (default 400) --interval-ms N (default 15)
  audio                         audio -> Meyda features per frame [-> model], NDJSON per frame
      --wav FILE | raw PCM on stdin with --rate HZ [--encoding s16le] [--channels 1]
      --features mfcc,rms,...  (default mfcc) --buffer-size 512 --hop-size N  [--model FILE]
      e.g. sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | seqstream audio --rate 16000 --model m.json
  stream --model FILE           NDJSON (or --format csv) lines on stdin -> one state per --key
      [--key FIELD] [--value x | --value f1,f2] [--max-keys 100000]; {"key","y"} per line out,
      bad lines reported on stderr with their code, the rest go on
  backend                       print the tfjs backend in use

Model files (--model): seqstream model JSON, a PyTorch state dict as JSON or .safetensors, or a
fixture from tools/export_torch.py; --head-activation identity|sigmoid|softmax and
--nonlinearity tanh|relu say what the weights cannot.

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
        wav: { type: 'string' },
        rate: { type: 'string' },
        encoding: { type: 'string' },
        channels: { type: 'string' },
        features: { type: 'string' },
        'buffer-size': { type: 'string' },
        'hop-size': { type: 'string' },
        model: { type: 'string' },
        'head-activation': { type: 'string' },
        nonlinearity: { type: 'string' },
        format: { type: 'string' },
        key: { type: 'string' },
        value: { type: 'string' },
        'max-keys': { type: 'string' },
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
    case 'audio':
    case 'stream':
      console.error(`backend ${backend}`); // stdout carries NDJSON only
      try {
        return await runDataCommand(command, values as Record<string, string | undefined>, out);
      } catch (err) {
        const e = err as Error & { code?: string };
        if (e.code === 'SEQ_INVALID_OPTION' || e.code === 'SEQ_MODEL_FORMAT' || e.code?.startsWith('SEQ_PARAM')) {
          out(`seqstream ${command}: ${e.code}: ${e.message}`);
          return 2;
        }
        throw err;
      }
    default:
      out(`seqstream: unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

/** `audio` and `stream`: read stdin (or a WAV file), write NDJSON lines with `out`. */
async function runDataCommand(command: 'audio' | 'stream', flags: Record<string, string | undefined>, out: (s: string) => void): Promise<number> {
  const num = (flag: string): number | undefined => {
    const v = flags[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidOptionError(`--${flag}`, 'a positive number', v);
    return n;
  };
  const list = (flag: string): string[] | undefined => flags[flag]?.split(',').map((f) => f.trim()).filter(Boolean);
  const model = flags.model
    ? loadModelFile(flags.model, {
        headActivation: flags['head-activation'] as HeadActivation | undefined,
        nonlinearity: flags.nonlinearity as 'tanh' | 'relu' | undefined,
      })
    : undefined;
  if (command === 'audio') {
    await runAudioCommand(
      {
        wav: flags.wav,
        sampleRate: num('rate'),
        encoding: flags.encoding as PcmEncoding | undefined,
        channels: num('channels'),
        features: list('features') ?? ['mfcc'],
        bufferSize: num('buffer-size'),
        hopSize: num('hop-size'),
        model,
      },
      process.stdin,
      out,
    );
    return 0;
  }
  if (!model) {
    out('seqstream stream: --model FILE is required');
    return 2;
  }
  const format = flags.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw new InvalidOptionError('--format', 'ndjson or csv', format);
  const summary = await runStreamCommand(
    { model, format, key: flags.key, value: list('value'), maxKeys: num('max-keys') },
    process.stdin,
    out,
    (line) => console.error(line),
  );
  console.error(`seqstream stream: ${summary.events} events out, ${summary.rejected} rejected`);
  return 0;
}

// Run when executed directly (npm start / tsx), not when imported by the bin wrapper or tests.
if (process.argv[1] && /cli[\\/]main\.(ts|js)$/.test(process.argv[1])) {
  exitQuietlyOnClosedStdout();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`seqstream: ${(err as Error & { code?: string }).code ?? 'error'}: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}

/**
 * A reader that stops early (`seqstream audio ... | head`) closes our stdout; that ends the
 * program normally instead of crashing on EPIPE.
 */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
