/** Plain-JSON state of a {@link SeasonalProfile}. */
export interface SeasonalProfileJSON {
  /** Per bin the smoothed value, null where the bin was never seen. */
  means: (number | null)[];
}

/**
 * A smoothed calendar profile of one stream: the typical value of each time-of-day (or
 * time-of-week) bin, as an exponentially weighted mean. Its forecast is what this moment of the
 * day or week usually looks like, so it sees what a one-step forecaster cannot: a daily peak
 * that does not come, a weekday that looks like a Sunday.
 *
 * @example
 * ```ts
 * const profile = new SeasonalProfile({ binsPerDay: 48, days: 1, rate: 0.1 });
 * profile.expected(t);   // NaN until the bin of t has been seen
 * profile.learn(t, 0.4);
 * ```
 */
export class SeasonalProfile {
  private readonly means: Float64Array;
  private readonly binMs: number;
  private readonly rate: number;

  constructor(options: { binsPerDay: number; days: number; rate: number }) {
    this.means = new Float64Array(options.binsPerDay * options.days).fill(NaN);
    this.binMs = 86_400_000 / options.binsPerDay;
    this.rate = options.rate;
  }

  private bin(timestamp: number): number {
    const n = this.means.length;
    return ((Math.floor(timestamp / this.binMs) % n) + n) % n;
  }

  /** The typical value at this time, NaN if its bin is new. */
  expected(timestamp: number): number {
    return this.means[this.bin(timestamp)];
  }

  /** Folds a value into its bin. */
  learn(timestamp: number, value: number): void {
    const b = this.bin(timestamp);
    const m = this.means[b];
    this.means[b] = Number.isNaN(m) ? value : m + this.rate * (value - m);
  }

  toJSON(): SeasonalProfileJSON {
    return { means: Array.from(this.means, (m) => (Number.isNaN(m) ? null : m)) };
  }

  restore(json: SeasonalProfileJSON): void {
    json.means.forEach((m, i) => (this.means[i] = m ?? NaN));
  }
}
