import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { DEFAULT_LOG_MEL, type LogMelSettings } from '../../tagging/logMelFeatures.js';
import type { TrainProgress } from '../../training/train.js';
import { type CliContext, parseInteger, parseList, parseNumber, UsageError } from '../cliContext.js';
import type { CsvSequenceOptions } from '../csvSequences.js';
import { isFolder, runTrainAudio, runTrainSequences, type TrainCommandOptions } from '../trainCommand.js';

/** The flags as commander parses them: `--features` and `--bptt` still as written, the CSV flags flat. */
type TrainFlags = Omit<TrainCommandOptions, 'features' | 'bptt'> & { features: string; bptt: string } & Required<Pick<CsvSequenceOptions, 'sequenceColumn' | 'labelColumn' | 'task'>> & Pick<CsvSequenceOptions, 'columns'>;

/**
 * Parses `--features`: `logmel` or `logmel+floor` (plus each band's height above a noise floor
 * rising 10 dB/s), optionally `:BANDS[:HOP_MS[:RATE]]` (defaults 24 bands, 10 ms, 16000 Hz).
 *
 * @example
 * ```ts
 * parseFeatures('logmel:32'); // 32 mel bands, other settings default
 * ```
 */
export function parseFeatures(value: string): LogMelSettings {
  const [kind, bands, hopMs, rate] = value.split(':');
  if (kind !== 'logmel' && kind !== 'logmel+floor') throw new UsageError(`--features: expected logmel or logmel+floor[:bands[:hopMs[:rate]]], received '${value}' (Meyda features are too slow for live tagging here; see the README)`);
  const sampleRate = rate ? Number(rate) : DEFAULT_LOG_MEL.sampleRate;
  const hopSize = hopMs ? Math.round((Number(hopMs) * sampleRate) / 1000) : Math.round((DEFAULT_LOG_MEL.hopSize * sampleRate) / DEFAULT_LOG_MEL.sampleRate);
  const windowSize = Math.max(hopSize, Math.round((DEFAULT_LOG_MEL.windowSize * sampleRate) / DEFAULT_LOG_MEL.sampleRate));
  let fftSize = 1;
  while (fftSize < windowSize) fftSize *= 2;
  const melBands = bands ? Number(bands) : DEFAULT_LOG_MEL.melBands;
  const floor = kind === 'logmel+floor' ? { noiseFloorRiseDbPerSecond: 10 } : {};
  return { ...DEFAULT_LOG_MEL, sampleRate, hopSize, windowSize, fftSize, melBands, fMax: Math.min(DEFAULT_LOG_MEL.fMax, sampleRate / 2), ...floor };
}

/**
 * `seqstream train`: trains a tagger on a folder of labelled WAVs, or a sequence classifier /
 * tagger on an NDJSON file of sequences, with a progress bar on stderr.
 *
 * @example
 * ```ts
 * registerTrain(program, ctx); // seqstream train --data corpus/train --out vad.json
 * ```
 */
export function registerTrain(program: Command, ctx: CliContext): void {
  program
    .command('train')
    .description('train a tagger on labelled WAVs (DIR) or a classifier on NDJSON/CSV sequences (FILE)')
    .requiredOption('--data <dir|file>', 'folder of WAVs with <name>.labels.ndjson beside each, or a file of sequences (.csv: CSV, else NDJSON)')
    .option('--valid <dir>', 'validation folder (default: 10% of --data, seeded)')
    .option('--features <spec>', 'audio features: logmel or logmel+floor, then [:bands[:hopMs[:rate]]]', 'logmel')
    .addOption(new Option('--cell <kind>', 'recurrent cell').choices(['gru', 'lstm', 'rnn_tanh', 'rnn_relu']).default('gru'))
    .option('--hidden <n>', 'hidden size', parseInteger(1), 32)
    .option('--layers <n>', 'stacked layers', parseInteger(1), 1)
    .option('--epochs <n>', 'most passes over the data', parseInteger(1), 20)
    .option('--batch-size <n>', 'sequences per mini-batch', parseInteger(1), 16)
    .option('--lr <rate>', 'Adam learning rate', parseNumber(0, true), 0.005)
    .option('--bptt <full|k>', "'full', or truncate to k steps", 'full')
    .option('--patience <n>', 'stop after n epochs without a better validation score', parseInteger(1), 5)
    .option('--seed <n>', 'seed of the weights, split and shuffles', parseInteger(0), 1)
    .option('--labels <list>', 'label order (default: sorted labels found in the data)', parseList)
    .option('--sequence-column <name>', 'CSV: the column naming the sequence of each row', 'sequence')
    .option('--label-column <name>', 'CSV: the column holding the label', 'label')
    .addOption(new Option('--task <kind>', 'CSV: classify (one label per sequence) or tag (a label per row; empty: none)').choices(['classify', 'tag']).default('classify'))
    .option('--columns <list>', 'CSV: feature columns, in order (default: every other column)', parseList)
    .requiredOption('--out <file>', 'where to write the model JSON')
    .addHelpText('after', '\nExamples:\n  seqstream train --data corpus/train --valid corpus/valid --hidden 32 --epochs 20 --out vad.json\n  seqstream train --data sequences.ndjson --cell gru --hidden 16 --out classifier.json\n  seqstream train --data readings.csv --sequence-column run --label-column state --task tag --out tagger.json')
    .action((opts: TrainFlags) => {
      const bptt: 'full' | number = opts.bptt === 'full' ? 'full' : Number(opts.bptt);
      if (bptt !== 'full' && !(Number.isInteger(bptt) && bptt >= 1)) throw new UsageError(`--bptt: expected 'full' or a whole number >= 1, received '${opts.bptt}'`);
      const command = `seqstream train ${process.argv.slice(3).join(' ')}`.trim();
      const common = { data: opts.data, cell: opts.cell, hidden: opts.hidden, layers: opts.layers, epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, bptt, patience: opts.patience, seed: opts.seed, labels: opts.labels, out: opts.out, command };
      const progress = progressReporter(ctx, opts.epochs);
      try {
        if (isFolder(opts.data)) {
          const { result } = runTrainAudio({ ...common, valid: opts.valid, features: parseFeatures(opts.features) }, progress.on, ctx.err);
          progress.stop();
          const v = result.bestValidation;
          ctx.err(`best epoch ${result.bestEpoch}: validation F1 ${v?.f1.toFixed(4)}, false alarms ${(100 * (v?.falseAlarmRate ?? NaN)).toFixed(1)}%, misses ${(100 * (v?.missRate ?? NaN)).toFixed(1)}%; wrote ${opts.out}`);
        } else {
          const csv = { sequenceColumn: opts.sequenceColumn, labelColumn: opts.labelColumn, task: opts.task, columns: opts.columns };
          const { result } = runTrainSequences({ ...common, csv }, progress.on, ctx.err);
          progress.stop();
          ctx.err(`best epoch ${result.bestEpoch}: validation accuracy ${result.bestValidation?.accuracy.toFixed(4)}; wrote ${opts.out}`);
        }
      } finally {
        progress.stop();
      }
    });
}

/** A cli-progress bar on a TTY stderr (epoch, loss, validation, ETA); one line per epoch otherwise. */
function progressReporter(ctx: CliContext, epochs: number): { on: (e: TrainProgress) => void; stop: () => void } {
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ stream: process.stderr, format: 'epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | val {val} | ETA {eta_formatted}' }, cliProgress.Presets.shades_classic) : null;
  let started = false;
  let stopped = false;
  return {
    on(e) {
      if (e.kind === 'batch') {
        if (!bar) return;
        const total = epochs * e.batches;
        if (!started) {
          bar.start(total, 0, { epoch: 1, epochs, loss: '-', val: '-' });
          started = true;
        }
        bar.update((e.epoch - 1) * e.batches + e.batch, { epoch: e.epoch, epochs, loss: e.loss.toFixed(4) });
        return;
      }
      const val = e.validation ? `loss ${e.validation.loss.toFixed(4)} F1 ${e.validation.f1.toFixed(4)} acc ${e.validation.accuracy.toFixed(4)}` : '-';
      if (bar) bar.update({ val });
      else ctx.err(`epoch ${e.epoch}/${e.epochs} train loss ${e.trainLoss.toFixed(4)} val ${val}${e.best ? ' *' : ''} (${(e.elapsedMs / 1000).toFixed(1)} s)`);
    },
    stop() {
      if (bar && started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
