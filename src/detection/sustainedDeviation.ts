import { AnomalyLikelihood, type AnomalyLikelihoodJSON } from './anomalyLikelihood.js';
import { ModelFormatError } from '../errors.js';
import { integerOption } from '../options.js';

/** Plain-JSON state of a {@link SustainedDeviation} (exact). */
export interface SustainedDeviationJSON {
  /** The last residuals, oldest first (at most `window`). */
  recent: number[];
  sum: number;
  likelihood: AnomalyLikelihoodJSON;
}

/**
 * How unlikely a sustained deviation from a predictor is: the mean of the last `window` signed
 * residuals (reading minus what the predictor expected), its size tested by an
 * {@link AnomalyLikelihood} against the stream's own history of it.
 *
 * A stream that sits well above (or below) what this hour of the week usually looks like for a
 * few hours is doing something new, even when each reading is unsurprising next to the one
 * before it (a one-step forecaster follows a level shift within a step) and no single residual is
 * large: the signed mean adds up what per-reading surprises spread thin, and cancels noise that
 * goes both ways.
 *
 * @example
 * ```ts
 * const sustained = new SustainedDeviation(48, { historyWindow: 5000, minStd: 0.001 });
 * const logQ = sustained.update(0.05); // 0 (log 1) until 48 residuals were seen
 * ```
 */
export class SustainedDeviation {
  private readonly recent: Float64Array;
  private readonly likelihood: AnomalyLikelihood;
  private at = 0;
  private filled = 0;
  private sum = 0;

  /** `window`: residuals averaged (integer >= 1); the likelihood's `historyWindow` and `minStd`. */
  constructor(window: number, options: { historyWindow: number; minStd: number }, restored?: SustainedDeviationJSON) {
    this.recent = new Float64Array(integerOption('sustainedWindow', window, undefined, 1));
    this.likelihood = new AnomalyLikelihood({ averageWindow: 1, historyWindow: options.historyWindow, minStd: options.minStd });
    if (restored) {
      if (!Array.isArray(restored.recent) || restored.recent.length > window || !restored.recent.every(Number.isFinite) || !Number.isFinite(restored.sum) || !restored.likelihood) {
        throw new ModelFormatError('SEQ_STATE_FORMAT', `Sustained-deviation state is malformed or longer than sustainedWindow (${window})`, { window });
      }
      this.recent.set(restored.recent);
      this.filled = restored.recent.length;
      this.at = this.filled % window;
      this.sum = restored.sum;
      this.likelihood.restore(restored.likelihood);
    }
  }

  /** Adds one signed residual; returns log Q of the mean's size (0 until `window` residuals were seen). */
  update(residual: number): number {
    const w = this.recent.length;
    if (this.filled === w) this.sum -= this.recent[this.at];
    else this.filled++;
    this.recent[this.at] = residual;
    this.at = (this.at + 1) % w;
    this.sum += residual;
    const logQ = this.likelihood.update(Math.abs(this.sum / this.filled));
    return this.filled === w ? logQ : 0;
  }

  toJSON(): SustainedDeviationJSON {
    const w = this.recent.length;
    const recent: number[] = [];
    for (let i = 0; i < this.filled; i++) recent.push(this.recent[(this.at - this.filled + i + w) % w]);
    return { recent, sum: this.sum, likelihood: this.likelihood.toJSON() };
  }
}
