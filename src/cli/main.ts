import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { type CliContext, UsageError } from './cliContext.js';
import { registerAudio } from './commands/audio.js';
import { registerBackend } from './commands/backend.js';
import { registerDemo } from './commands/demo.js';
import { registerDetect } from './commands/detect.js';
import { registerPublish } from './commands/publish.js';
import { registerServe } from './commands/serve.js';
import { registerStream } from './commands/stream.js';
import { registerTag } from './commands/tag.js';
import { registerTrain } from './commands/train.js';
import { registerVerify } from './commands/verify.js';
import { registerWorker } from './commands/worker.js';

/** Exit code of every usage error (unknown command or flag, bad flag value, missing argument). */
export const USAGE_EXIT = 2;

/**
 * Builds the `seqstream` program: every command registered, help and usage errors on stderr,
 * commander's own exits turned into thrown errors that {@link main} maps to exit codes.
 *
 * @example
 * ```ts
 * createProgram({ out: console.log, err: console.error, exitCode: 0 }).helpInformation();
 * ```
 */
export function createProgram(ctx: CliContext): Command {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command('seqstream')
    .description('real-time sequence processing: recurrent models over live streams')
    .version(pkg.version, '--version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.err(s.replace(/\n$/, '')),
      writeErr: (s) => ctx.err(s.replace(/\n$/, '')),
    })
    .exitOverride();
  registerVerify(program, ctx);
  registerDemo(program, ctx);
  registerAudio(program, ctx);
  registerStream(program, ctx);
  registerDetect(program, ctx);
  registerServe(program, ctx);
  registerBackend(program, ctx);
  registerWorker(program, ctx);
  registerPublish(program, ctx);
  registerTrain(program, ctx);
  registerTag(program, ctx);
  program.addHelpText(
    'after',
    `
Model files (--model): seqstream model JSON, a PyTorch state dict as JSON or .safetensors, or a
fixture from tools/export_torch.py; --head-activation and --nonlinearity say what the weights
cannot. stdout carries data only (NDJSON, tables); help, status and errors go to stderr.
Usage errors exit ${USAGE_EXIT}. 'seqstream <command> --help' describes each command.`,
  );
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and resolves to the exit code: 0 done,
 * 1 failed, 2 usage error. `out` receives stdout lines, `err` stderr lines.
 *
 * @example
 * ```ts
 * const code = await main(['verify', 'test/fixtures/pytorch']);
 * ```
 */
export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => console.log(s),
  err: (s: string) => void = (s) => console.error(s),
): Promise<number> {
  const ctx: CliContext = { out, err, exitCode: 0 };
  const program = createProgram(ctx);
  if (argv.length === 1 && argv[0] === '--version') {
    out(program.version() as string); // stdout, for scripts; help stays on stderr with the errors
    return 0;
  }
  if (argv.length === 0) {
    err(program.helpInformation().replace(/\n$/, ''));
    return USAGE_EXIT;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return USAGE_EXIT;
    }
    const error = e as Error & { code?: string; details?: { option?: string } };
    const command = program.args[0] ?? '';
    // An environment variable (SEQSTREAM_BACKEND=quantum) is the machine's set-up, not the command line: exit 1.
    if (error.code === 'SEQ_INVALID_OPTION' && error.details?.option?.startsWith('SEQSTREAM_')) {
      err(`seqstream ${command}: ${error.code}: ${error.message}`);
      return 1;
    }
    if (error instanceof UsageError || error.code === 'SEQ_INVALID_OPTION' || error.code === 'SEQ_MODEL_FORMAT' || (typeof error.code === 'string' && error.code.startsWith('SEQ_PARAM'))) {
      err(`seqstream ${command}: ${error.code}: ${error.message}\n(add --help for usage)`);
      return USAGE_EXIT;
    }
    throw e;
  }
}

// Run when executed directly (npm start / tsx), not when imported by the bin wrapper or tests.
if (process.argv[1] && /cli[\\/]main\.(ts|js)$/.test(process.argv[1])) {
  exitQuietlyOnClosedStdout();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`seqstream: ${(e as Error & { code?: string }).code ?? 'error'}: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}

/**
 * A reader that stops early (`seqstream audio ... | head`) closes our stdout; that ends the
 * program normally instead of crashing on EPIPE.
 *
 * @example
 * ```ts
 * exitQuietlyOnClosedStdout();
 * ```
 */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
