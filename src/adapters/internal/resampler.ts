/** Zero crossings of the sinc kept on each side, at the lower of the two rates. */
export const RESAMPLER_ZERO_CROSSINGS = 16;
/** Phase tables are precomputed when the reduced output rate has at most this many phases. */
const MAX_TABLE_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Streaming band-limited resampler: a Blackman-windowed sinc low-pass with its cut-off at the
 * lower Nyquist frequency and {@link RESAMPLER_ZERO_CROSSINGS} zero crossings per side.
 *
 * Output sample j sits at input position p = j * inRate / outRate and is
 * `sum_k x[k] * fc * sinc(fc * (p - k)) * blackman((p - k) / W)` over the `2W` nearest inputs,
 * with `fc = min(1, outRate / inRate)` and `W = ceil(zeroCrossings / fc)`. Samples before the
 * start and after the end count as zero; the output has `ceil(inputs * outRate / inRate)` samples.
 */
export class Resampler {
  private readonly step: number;
  private readonly fc: number;
  private readonly halfWidth: number;
  /** When rates reduce to few phases: kernel[phase][tap]. */
  private readonly table: Float64Array[] | null;
  private readonly L: number;
  private readonly M: number;
  private hist: Float32Array;
  private histLength = 0;
  /** Absolute input index of hist[0]. */
  private histStart = 0;
  private inputs = 0;
  private outputs = 0;

  constructor(readonly inRate: number, readonly outRate: number) {
    const g = gcd(inRate, outRate);
    this.L = outRate / g;
    this.M = inRate / g;
    this.step = inRate / outRate;
    this.fc = Math.min(1, outRate / inRate);
    this.halfWidth = Math.ceil(RESAMPLER_ZERO_CROSSINGS / this.fc);
    this.hist = new Float32Array(4 * this.halfWidth + 1024);
    if (this.L <= MAX_TABLE_PHASES) {
      this.table = [];
      for (let ph = 0; ph < this.L; ph++) {
        const frac = ph / this.L;
        const row = new Float64Array(2 * this.halfWidth);
        // taps k = floor(p) - W + 1 + t, so p - k = frac + W - 1 - t
        for (let t = 0; t < row.length; t++) row[t] = this.kernel(frac + this.halfWidth - 1 - t);
        this.table.push(row);
      }
    } else {
      this.table = null;
    }
  }

  private kernel(d: number): number {
    const W = this.halfWidth;
    if (Math.abs(d) >= W) return 0;
    const x = this.fc * d;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const t = d / W;
    const win = 0.42 + 0.5 * Math.cos(Math.PI * t) + 0.08 * Math.cos(2 * Math.PI * t);
    return this.fc * sinc * win;
  }

  /** Feeds input samples; returns the output samples that are now fully determined. */
  push(samples: ArrayLike<number>): Float32Array {
    this.append(samples);
    return this.produce(false);
  }

  /** Ends the stream: returns the remaining output samples (inputs past the end count as zero). */
  flush(): Float32Array {
    return this.produce(true);
  }

  private append(samples: ArrayLike<number>): void {
    const need = this.histLength + samples.length;
    if (need > this.hist.length) {
      const next = new Float32Array(Math.max(need, this.hist.length * 2));
      next.set(this.hist.subarray(0, this.histLength));
      this.hist = next;
    }
    for (let i = 0; i < samples.length; i++) this.hist[this.histLength + i] = samples[i];
    this.histLength += samples.length;
    this.inputs += samples.length;
  }

  private produce(final: boolean): Float32Array {
    const W = this.halfWidth;
    const limit = final
      ? Math.ceil((this.inputs * this.L) / this.M) // outputs with p < inputs
      : Math.ceil(((this.inputs - W) * this.L) / this.M); // outputs whose taps are all received
    const count = Math.max(0, limit - this.outputs);
    const out = new Float32Array(count);
    for (let o = 0; o < count; o++) {
      const j = this.outputs + o;
      const num = j * this.M;
      const base = Math.floor(num / this.L);
      const first = base - W + 1;
      let acc = 0;
      if (this.table) {
        const row = this.table[num % this.L];
        for (let t = 0; t < row.length; t++) acc += row[t] * this.at(first + t);
      } else {
        const p = j * this.step;
        for (let t = 0; t < 2 * W; t++) acc += this.kernel(p - (first + t)) * this.at(first + t);
      }
      out[o] = acc;
    }
    this.outputs += count;
    // Keep only the inputs the next output still needs.
    const nextFirst = Math.floor((this.outputs * this.M) / this.L) - W + 1;
    const drop = Math.min(this.histLength, Math.max(0, nextFirst - this.histStart));
    if (drop > 0) {
      this.hist.copyWithin(0, drop, this.histLength);
      this.histLength -= drop;
      this.histStart += drop;
    }
    return out;
  }

  private at(k: number): number {
    const i = k - this.histStart;
    return i >= 0 && i < this.histLength ? this.hist[i] : 0;
  }
}
