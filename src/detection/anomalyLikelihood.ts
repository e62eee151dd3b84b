import { logGaussianTail } from './gaussianTail.js';

/** Options of {@link AnomalyLikelihood}. */
export interface AnomalyLikelihoodOptions {
  /** Raw scores averaged into the short-term mean that is tested. Default 10. */
  averageWindow?: number;
  /** Time constant, in events, of the long-term mean and variance it is tested against. Default 5000. */
  historyWindow?: number;
  /** Floor of the long-term standard deviation (raw scores are on a [0, 1] scale). Default 0.001. */
  minStd?: number;
}

/** Plain-JSON state of an {@link AnomalyLikelihood}. */
export interface AnomalyLikelihoodJSON {
  recent: number[];
  next: number;
  sum: number;
  count: number;
  mean: number;
  variance: number;
}

/**
 * Numenta's anomaly likelihood (Ahmad et al. 2017) for one stream, with bounded memory: how
 * unlikely the recent raw anomaly scores are under the stream's own long-term distribution of them.
 *
 * Algorithm, per raw score r:
 * 1. Short-term mean m of the last `averageWindow` raw scores (a ring buffer).
 * 2. Tail of m under a Gaussian fitted to the earlier short-term means: z = (m - mean) / max(std,
 *    minStd); returns log Q(z) (natural log, far-tail accurate).
 * 3. Then folds m into the long-term mean and variance, exponentially weighted with weight
 *    max(1/n, 1/historyWindow) (a plain average while n < historyWindow).
 * Testing against the stream's own history is what makes one threshold fit every stream: a noisy
 * stream's large errors are ordinary for it, a quiet stream's small ones are not.
 *
 * @example
 * ```ts
 * const likelihood = new AnomalyLikelihood({ averageWindow: 10, historyWindow: 2000 });
 * const logQ = likelihood.update(0.02); // log tail probability of the current short-term mean
 * ```
 */
export class AnomalyLikelihood {
  private readonly averageWindow: number;
  private readonly historyWindow: number;
  private readonly minStd: number;
  private readonly recent: Float64Array;
  private next = 0;
  private sum = 0;
  private filled = 0;
  private count = 0;
  private mean = 0;
  private variance = 0;

  constructor(options: AnomalyLikelihoodOptions = {}) {
    this.averageWindow = options.averageWindow ?? 10;
    this.historyWindow = options.historyWindow ?? 5000;
    this.minStd = options.minStd ?? 0.001;
    this.recent = new Float64Array(this.averageWindow);
  }

  /** Adds one raw score; returns log Q of the short-term mean against the history before it. */
  update(raw: number): number {
    const w = this.averageWindow;
    if (this.filled === w) this.sum -= this.recent[this.next];
    else this.filled++;
    this.recent[this.next] = raw;
    this.next = (this.next + 1) % w;
    this.sum += raw;
    const m = this.sum / this.filled;
    const std = Math.max(Math.sqrt(this.variance), this.minStd);
    const logQ = this.count === 0 ? Math.log(0.5) : logGaussianTail((m - this.mean) / std);
    this.count++;
    const alpha = Math.max(1 / this.count, 1 / this.historyWindow);
    const d = m - this.mean;
    this.mean += alpha * d;
    this.variance = (1 - alpha) * (this.variance + alpha * d * d);
    return logQ;
  }

  /** The state as plain JSON (exact: every number round-trips). */
  toJSON(): AnomalyLikelihoodJSON {
    // The ring is stored oldest first so the JSON does not depend on where the write head is.
    const recent: number[] = [];
    for (let i = 0; i < this.filled; i++) recent.push(this.recent[(this.next - this.filled + i + this.averageWindow) % this.averageWindow]);
    return { recent, next: 0, sum: this.sum, count: this.count, mean: this.mean, variance: this.variance };
  }

  /** Restores {@link AnomalyLikelihood.toJSON} output (options must be the same). */
  restore(json: AnomalyLikelihoodJSON): void {
    this.recent.fill(0);
    const n = Math.min(json.recent.length, this.averageWindow);
    for (let i = 0; i < n; i++) this.recent[i] = json.recent[json.recent.length - n + i];
    this.filled = n;
    this.next = n % this.averageWindow;
    this.sum = json.sum;
    this.count = json.count;
    this.mean = json.mean;
    this.variance = json.variance;
  }
}
