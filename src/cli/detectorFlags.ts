import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { DetectorJobOptions } from '../cluster/detectorJob.js';
import type { ValueRange } from '../detection/detectorOptions.js';
import { parseInteger, parseNumber, UsageError } from './cliContext.js';

/** The flags {@link withDetectorOptions} adds, as commander parses them. */
export interface DetectorFlags {
  detectorOptions?: string;
  threshold?: number;
  learningPeriod?: number;
  range?: ValueRange;
}

/** A commander parser for `--range <min,max>`. */
function parseRange(value: string): ValueRange {
  const [min, max, ...rest] = value.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
  if (rest.length > 0 || !Number.isFinite(min) || !Number.isFinite(max) || max < min) throw new InvalidArgumentError(`expected <min>,<max> with min <= max, received '${value}'`);
  return { min, max };
}

/**
 * Adds the anomaly detector's flags to `cmd`: `--detector-options FILE` (a JSON object of
 * `detectorJob` options: every `DetectorOptions` field, `threshold`, `index`, `maxKeys`) and the
 * three `seqstream detect` also has, which win over the file: `--threshold`, `--learning-period`, `--range`.
 *
 * @example
 * ```ts
 * withDetectorOptions(program.command('worker'));
 * ```
 */
export function withDetectorOptions(cmd: Command): Command {
  return cmd
    .option('--detector-options <file>', 'with --detect: JSON object of detector options (threshold, learningPeriod, hiddenSize, window, seed, ...; see README "Anomaly detection")')
    .option('--threshold <t>', 'with --detect: alert = (score >= t) (default 0.6)', parseNumber(0))
    .option('--learning-period <n>', 'with --detect: readings per key scored 0 while learning (default 300)', parseInteger(0))
    .option('--range <min,max>', 'with --detect: known value range of every key (default: the range seen so far)', parseRange);
}

/**
 * The detector options the flags give: the `--detector-options` file, then the flags over it.
 * A file that cannot be read or is not a JSON object is a usage error (`SEQ_USAGE`); unknown or
 * invalid options are refused by `detectorJob` (`SEQ_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * const job = detectorJob(detectorOptionsFromFlags(cmd.opts()));
 * ```
 */
export function detectorOptionsFromFlags(flags: DetectorFlags): DetectorJobOptions {
  let options: DetectorJobOptions = {};
  if (flags.detectorOptions !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.detectorOptions, 'utf8');
    } catch (e) {
      throw new UsageError(`--detector-options: cannot read ${flags.detectorOptions} (${(e as Error).message})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--detector-options: ${flags.detectorOptions} is not JSON (${(e as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--detector-options: ${flags.detectorOptions} must hold a JSON object of detector options`);
    options = parsed as DetectorJobOptions;
  }
  if (flags.threshold !== undefined) options.threshold = flags.threshold;
  if (flags.learningPeriod !== undefined) options.learningPeriod = flags.learningPeriod;
  if (flags.range !== undefined) options.range = flags.range;
  return options;
}
