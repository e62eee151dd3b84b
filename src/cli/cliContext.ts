import { InvalidArgumentError, Option, type Command } from 'commander';
import { initBackend, type BackendName } from '../tensors/backend.js';

/**
 * Where a command writes: `out` is stdout (data: NDJSON, tables), `err` is stderr (help, usage
 * errors, status lines, progress). `exitCode` is what the command asks `main` to return.
 *
 * @example
 * ```ts
 * const ctx: CliContext = { out: console.log, err: console.error, exitCode: 0 };
 * ```
 */
export interface CliContext {
  out: (line: string) => void;
  err: (line: string) => void;
  exitCode: number;
}

/**
 * A usage error raised inside a command's action (a flag's value that commander cannot check
 * alone): `main` prints it on stderr as `seqstream <command>: <message>` and exits 2.
 *
 * @example
 * ```ts
 * throw new UsageError('give at least one fixture file or folder');
 * ```
 */
export class UsageError extends Error {
  readonly code = 'SEQ_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A commander argument parser for a whole number `>= min`, for `.option(..., parseInteger(1))`.
 *
 * @example
 * ```ts
 * cmd.option('--events <n>', 'how many events', parseInteger(1));
 * ```
 */
export function parseInteger(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}, received '${value}'`);
    return n;
  };
}

/**
 * A commander argument parser for a finite number `>= min` (`exclusive`: `> min`).
 *
 * @example
 * ```ts
 * cmd.option('--interval-ms <ms>', 'pause between events', parseNumber(0));
 * ```
 */
export function parseNumber(min: number, exclusive = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (exclusive ? n <= min : n < min)) {
      throw new InvalidArgumentError(`expected a number ${exclusive ? '>' : '>='} ${min}, received '${value}'`);
    }
    return n;
  };
}

/**
 * A commander argument parser for a comma-separated list (`mfcc,rms` → `['mfcc', 'rms']`).
 *
 * @example
 * ```ts
 * cmd.option('--features <list>', 'Meyda features', parseList, ['mfcc']);
 * ```
 */
export function parseList(value: string): string[] {
  return value.split(',').map((f) => f.trim()).filter(Boolean);
}

/**
 * Adds `--backend tensorflow|wasm|cpu` to `cmd` (choices checked by commander, exit 2).
 *
 * @example
 * ```ts
 * withBackendOption(program.command('verify'));
 * ```
 */
export function withBackendOption(cmd: Command): Command {
  return cmd.addOption(new Option('--backend <name>', 'tfjs backend (default: SEQSTREAM_BACKEND, else the first that loads)').choices(['tensorflow', 'wasm', 'cpu']));
}

/**
 * Starts the tfjs backend a command asked for with `--backend` and names it on stderr.
 *
 * @example
 * ```ts
 * const backend = await startBackend(ctx, opts.backend);
 * ```
 */
export async function startBackend(ctx: CliContext, backend: string | undefined): Promise<BackendName> {
  const name = await initBackend(backend as BackendName | undefined);
  ctx.err(`backend ${name}`);
  return name;
}
