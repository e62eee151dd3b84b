import { Option, type Command } from 'commander';
import { type CliContext, parseInteger, parseNumber, UsageError } from '../cliContext.js';
import { runDetect } from '../detectCommand.js';
import { runDetectNab } from '../detectNab.js';
import { FILE_DETECTOR_OPTIONS } from '../../detection/detectorOptions.js';

interface DetectFlags {
  nab?: string;
  out?: string;
  detector: string;
  format?: 'csv' | 'ndjson';
  outputFormat?: 'csv' | 'ndjson';
  key?: string;
  timestamp: string;
  value: string;
  threshold?: number;
  learningPeriod?: number;
  range?: string;
  maxContexts: number;
  threads: number;
  quiet?: boolean;
}

/**
 * `seqstream detect`: anomaly scores for sensor rows (files, folders, stdin), or a whole NAB run
 * (`--nab <data> --out <results>`) in NAB's result layout.
 *
 * @example
 * ```ts
 * registerDetect(program, ctx); // seqstream detect --nab nab/data --out results/seqstream
 * ```
 */
export function registerDetect(program: Command, ctx: CliContext): void {
  program
    .command('detect')
    .description('anomaly score per row: CSV/NDJSON files, folders or stdin -> rows as written + anomaly_score (or --nab: NAB results layout)')
    .argument('[inputs...]', 'files or folders (default: stdin)')
    .option('--nab <data-dir>', "run NAB's data folder as NAB's rules demand (needs --out)")
    .option('--out <results-dir>', 'with --nab: write <out>/<category>/<detector>_<name>.csv')
    .option('--detector <name>', 'with --nab: detector name in the result file names', 'seqstream')
    .addOption(new Option('--format <name>', 'input format (default: by extension; stdin ndjson)').choices(['csv', 'ndjson']))
    .addOption(new Option('--output-format <name>', "output format (default: the input's)").choices(['csv', 'ndjson']))
    .option('--key <field>', 'field naming the stream (default: one stream per file / stdin)')
    .option('--timestamp <field>', "timestamp field, or 'none' for arrival time", 'timestamp')
    .option('--value <field>', 'value field', 'value')
    .option('--threshold <t>', 'add alert = (anomaly_score >= t) (default: no alert column)', parseNumber(0))
    .option('--learning-period <n>', 'rows per stream scored 0 while learning (default 300)', parseInteger(0))
    .option('--range <min,max>', 'known value range of every stream (default: the range seen so far)')
    .option('--max-contexts <n>', 'contexts kept by the contextual member per stream (0 = off)', parseInteger(0), FILE_DETECTOR_OPTIONS.maxContexts)
    .option('--threads <n>', 'detector threads, keys spread over them (detectAnomaliesParallel; same scores; 1 = this thread)', parseInteger(1), 1)
    .option('--quiet', 'no progress bar (it is off anyway when stderr is not a terminal)')
    .action(async (inputs: string[], opts: DetectFlags) => {
      const progress = process.stderr.isTTY === true && !opts.quiet;
      if (opts.nab !== undefined) {
        if (opts.out === undefined) throw new UsageError('--nab needs --out <results-dir>');
        if (inputs.length > 0) throw new UsageError('give either input files or --nab, not both');
        const s = await runDetectNab({ dataDir: opts.nab, outDir: opts.out, detector: opts.detector, parameters: { ...FILE_DETECTOR_OPTIONS, maxContexts: opts.maxContexts }, progress }, ctx.err);
        ctx.err(`seqstream detect: ${s.files} files, ${s.rows} rows in ${s.seconds.toFixed(1)} s (${Math.round(s.rows / s.seconds)} rows/s) -> ${opts.out}`);
        return;
      }
      let range: { min: number; max: number } | undefined;
      if (opts.range !== undefined) {
        const [min, max] = opts.range.split(',').map(Number);
        if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) throw new UsageError(`--range must be <min>,<max> with min <= max, received ${opts.range}`);
        range = { min, max };
      }
      const s = await runDetect(
        {
          inputs,
          format: opts.format,
          outputFormat: opts.outputFormat,
          key: opts.key,
          timestamp: opts.timestamp === 'none' ? null : opts.timestamp,
          value: opts.value,
          threshold: opts.threshold,
          learningPeriod: opts.learningPeriod,
          range,
          maxContexts: opts.maxContexts,
          threads: opts.threads,
          progress,
        },
        process.stdin,
        ctx.out,
        ctx.err,
      );
      ctx.err(`seqstream detect: ${s.rows} rows scored, ${s.rejected} rejected, in ${s.seconds.toFixed(1)} s`);
    });
}
