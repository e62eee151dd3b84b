import type { CellKind } from '../cells/types.js';
import { InvalidOptionError } from '../errors.js';
import { booleanOption, integerOption, numberOption, oneOfOption } from '../options.js';
import type { RecurrentForecasterOptions } from './recurrentForecaster.js';

/** The known value range of a stream (NAB's rules allow a file's min and max). */
export interface ValueRange {
  min: number;
  max: number;
}

/**
 * Parameters of one stream's detector (one set for every key). The forecaster's own
 * (`cell`, `hiddenSize`, `window`, `learningRate`, `clipGradNorm`, `seed`) are
 * {@link RecurrentForecasterOptions}, with the same defaults; the same seed on the same input
 * gives the same scores.
 */
export interface DetectorOptions extends Omit<RecurrentForecasterOptions, 'inputSize'> {
  /** Known value range; values are normalised with it. Default none: the range seen so far. */
  range?: ValueRange;
  /** Readings scored 0 while the detector learns (NAB: 15% of the file, at most 750). Default 300. */
  learningPeriod?: number;
  /** Feed time-of-day and day-of-week phases of the timestamp (ms since the epoch) to the forecaster. Default true. */
  calendar?: boolean;
  /** Raw scores averaged by the likelihood (Numenta uses 10; 1 scores better here, see README). Default 1. */
  averageWindow?: number;
  /** Time constant of the likelihood's long-term distribution, in readings. Default 5000. */
  historyWindow?: number;
  /** Raw score = |forecast error| to this power (2: squared error, the loss the forecaster learns). Default 2. */
  errorPower?: number;
  /** Floor of the likelihood's standard deviation, on the raw score's scale. Default 0.001. */
  minStd?: number;
  /** A reading beyond the seen range by more than this fraction of it is an excursion (raw score 1). Default 0.03. */
  excursionTolerance?: number;
  /** Bins of the value range for level novelty: after the learning period, a reading with no earlier one in its bin or the two beside it has raw score 1 (0 = off). Default 32. */
  levelBins?: number;
  /** Time constant, in readings, of the refractory peak after a score (0 = off). Default 200. */
  refractory?: number;
  /** Factor on scores below the decaying peak of recent ones. Default 0.5. */
  suppression?: number;
  /** Calendar profile length in days (1 = time of day, 7 = time of week, 0 = off). Default 7. */
  seasonalDays?: number;
  /** Profile bins per day. Default 48. */
  seasonalBins?: number;
  /** Smoothing rate of the profile. Default 0.1. */
  seasonalRate?: number;
  /** Raw profile errors averaged by its likelihood. Default 3. */
  seasonalAverage?: number;
  /** Signed profile errors averaged by the sustained-deviation test (`SustainedDeviation`; 0 = off). Default 48. */
  sustainedWindow?: number;
  /** Weigh the profile's surprise by how much of the variation it explains. Default false. */
  seasonalGate?: boolean;
  /** `-log10` of the tail probability that scores 0.5. Default 5. */
  halfPoint?: number;
  /** Contexts kept by the contextual member (`ContextMemory`, after CAD OSE; 0 = off, at most 65000). Default 1024 (as `seqstream detect` and NAB). */
  maxContexts?: number;
  /** Bits of the contextual member's quantised value (2^bits levels, 1..8). Default 3. */
  contextBits?: number;
  /** Readings the contextual member stays silent after one of its scores >= 0.75 (CAD's rest period). Default learningPeriod / 5, rounded down. */
  contextRest?: number;
  /** How far a contextual score is lowered, times (1 - the forecaster's score), so equal ones stay apart (0..1). Default 0.01. */
  contextTieBreak?: number;
}

/** {@link DetectorOptions} with every default filled in. */
export interface ResolvedDetectorOptions extends Required<Omit<DetectorOptions, 'range'>> {
  range: ValueRange | undefined;
  resolved: true;
}

export const DETECTOR_DEFAULTS = {
  learningPeriod: 300,
  cell: 'gru' as CellKind,
  hiddenSize: 8,
  window: 16,
  learningRate: 0.01,
  clipGradNorm: 1,
  seed: 1,
  calendar: true,
  averageWindow: 1,
  historyWindow: 5000,
  minStd: 0.001,
  errorPower: 2,
  excursionTolerance: 0.03,
  levelBins: 32,
  halfPoint: 5,
  refractory: 200,
  seasonalDays: 7,
  seasonalBins: 48,
  seasonalRate: 0.1,
  seasonalAverage: 3,
  seasonalGate: false,
  sustainedWindow: 48,
  suppression: 0.5,
  maxContexts: 1024,
  contextBits: 3,
  contextTieBreak: 0.01,
};



/**
 * The parameters `seqstream detect` (files, stdin, NAB) uses: the same as {@link DETECTOR_DEFAULTS}
 * (one parameter set for the operator, the CLI and NAB), spelling out the contextual member's
 * 1024 contexts (standard 74.1 instead of 70.7 without it on NAB's development half). Kept for
 * code that spread it into its options when the operator's default was 0 (off).
 *
 * @example
 * ```ts
 * source.pipe(detectAnomalies({ ...FILE_DETECTOR_OPTIONS, threshold: 0.8 }));
 * ```
 */
export const FILE_DETECTOR_OPTIONS: Readonly<DetectorOptions> = Object.freeze({ maxContexts: 1024 });

/**
 * Checks detector options and fills in the defaults; throws `InvalidOptionError`
 * (`SEQ_INVALID_OPTION`) naming the option.
 *
 * @example
 * ```ts
 * const o = resolveDetectorOptions({ hiddenSize: 16 }); // o.window === 16, o.learningPeriod === 300
 * ```
 */
export function resolveDetectorOptions(options: DetectorOptions = {}): ResolvedDetectorOptions {
  const d = DETECTOR_DEFAULTS;
  const range = options.range;
  const learningPeriod = integerOption('learningPeriod', options.learningPeriod, d.learningPeriod, 0);
  if (range !== undefined) {
    if (typeof range !== 'object' || range === null || !Number.isFinite(range.min) || !Number.isFinite(range.max) || range.max < range.min) {
      throw new InvalidOptionError('range', '{ min, max } with finite min <= max', range);
    }
  }
  return {
    resolved: true,
    range: range ? { min: range.min, max: range.max } : undefined,
    learningPeriod,
    cell: oneOfOption('cell', options.cell, ['gru', 'lstm', 'rnn_tanh', 'rnn_relu'] as const, d.cell),
    hiddenSize: integerOption('hiddenSize', options.hiddenSize, d.hiddenSize, 1),
    window: integerOption('window', options.window, d.window, 1),
    learningRate: numberOption('learningRate', options.learningRate, d.learningRate, { above: 0 }),
    clipGradNorm: numberOption('clipGradNorm', options.clipGradNorm, d.clipGradNorm, { above: 0 }),
    seed: integerOption('seed', options.seed, d.seed, 0),
    calendar: booleanOption('calendar', options.calendar, d.calendar),
    averageWindow: integerOption('averageWindow', options.averageWindow, d.averageWindow, 1),
    historyWindow: integerOption('historyWindow', options.historyWindow, d.historyWindow, 1),
    minStd: numberOption('minStd', options.minStd, d.minStd, { above: 0 }),
    errorPower: numberOption('errorPower', options.errorPower, d.errorPower, { above: 0 }),
    excursionTolerance: numberOption('excursionTolerance', options.excursionTolerance, d.excursionTolerance, { min: 0 }),
    levelBins: integerOption('levelBins', options.levelBins, d.levelBins, 0),
    refractory: numberOption('refractory', options.refractory, d.refractory, { min: 0 }),
    suppression: numberOption('suppression', options.suppression, d.suppression, { min: 0 }),
    seasonalDays: integerOption('seasonalDays', options.seasonalDays, d.seasonalDays, 0),
    seasonalBins: integerOption('seasonalBins', options.seasonalBins, d.seasonalBins, 1),
    seasonalRate: numberOption('seasonalRate', options.seasonalRate, d.seasonalRate, { above: 0 }),
    seasonalAverage: integerOption('seasonalAverage', options.seasonalAverage, d.seasonalAverage, 1),
    seasonalGate: booleanOption('seasonalGate', options.seasonalGate, d.seasonalGate),
    sustainedWindow: integerOption('sustainedWindow', options.sustainedWindow, d.sustainedWindow, 0),
    halfPoint: numberOption('halfPoint', options.halfPoint, d.halfPoint, { above: 0 }),
    maxContexts: integerOption('maxContexts', options.maxContexts, d.maxContexts, 0, 65_000),
    contextBits: integerOption('contextBits', options.contextBits, d.contextBits, 1, 8),
    contextRest: integerOption('contextRest', options.contextRest, Math.floor(learningPeriod / 5), 0),
    contextTieBreak: numberOption('contextTieBreak', options.contextTieBreak, d.contextTieBreak, { min: 0, max: 1 }),
  };
}
