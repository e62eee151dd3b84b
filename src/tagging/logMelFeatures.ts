import FFT from 'fft.js';
import { InvalidOptionError } from '../errors.js';

/** Settings of the log-mel features a tagger is trained on; recorded in the model file. */
export interface LogMelSettings {
  kind: 'logmel';
  /** Sample rate the features are computed at (input is resampled to it). */
  sampleRate: number;
  /** Samples per analysis window (Hann). */
  windowSize: number;
  /** Samples between frame starts. */
  hopSize: number;
  /** FFT length (power of two >= windowSize). */
  fftSize: number;
  /** Triangular mel bands between `fMin` and `fMax` (HTK mel scale). */
  melBands: number;
  fMin: number;
  fMax: number;
  /**
   * When set, each frame also carries its log-mel minus a per-band noise floor that follows
   * every fall at once and rises at most this many dB per second (a minimum tracker), so the
   * model sees how far a band stands above the steady background. Doubles the feature size.
   * Default: off.
   */
  noiseFloorRiseDbPerSecond?: number;
}

/**
 * Values per frame of `settings`: the mel bands, twice with the noise floor.
 *
 * @example
 * ```ts
 * featureSize({ ...DEFAULT_LOG_MEL, noiseFloorRiseDbPerSecond: 10 }); // 48
 * ```
 */
export function featureSize(settings: LogMelSettings): number {
  return settings.noiseFloorRiseDbPerSecond ? 2 * settings.melBands : settings.melBands;
}

/**
 * Per-band minimum tracker of log-mel frames (see `LogMelSettings.noiseFloorRiseDbPerSecond`):
 * writes `x - floor` after the bands, in place. One per stream.
 *
 * @example
 * ```ts
 * const floor = new NoiseFloor(settings);
 * floor.apply(values, 0); // values holds 2 * melBands: the bands, then their height above the floor
 * ```
 */
export class NoiseFloor {
  private readonly floor: Float64Array;
  private readonly rise: number;
  private started = false;

  constructor(settings: LogMelSettings) {
    this.floor = new Float64Array(settings.melBands);
    // dB per second -> natural-log units per frame (energies are ln of power: 10 dB = ln 10)
    this.rise = ((settings.noiseFloorRiseDbPerSecond ?? 0) / 10) * Math.LN10 * (settings.hopSize / settings.sampleRate);
  }

  apply(values: Float32Array, offset: number): void {
    const M = this.floor.length;
    for (let b = 0; b < M; b++) {
      const x = values[offset + b];
      const f = this.started ? Math.min(x, this.floor[b] + this.rise) : x;
      this.floor[b] = f;
      values[offset + M + b] = x - f;
    }
    this.started = true;
  }
}

/**
 * Default settings: 16 kHz, 25 ms Hann windows every 10 ms, 512-point FFT, 24 mel bands from
 * 60 Hz to 7.6 kHz. Chosen for speed: one real FFT and a sparse filterbank per 10 ms.
 *
 * @example
 * ```ts
 * const f = new LogMelFeatures(DEFAULT_LOG_MEL);
 * ```
 */
export const DEFAULT_LOG_MEL: LogMelSettings = { kind: 'logmel', sampleRate: 16000, windowSize: 400, hopSize: 160, fftSize: 512, melBands: 24, fMin: 60, fMax: 7600 };

/**
 * Checks {@link LogMelSettings} (`SEQ_INVALID_OPTION` naming the field).
 *
 * @example
 * ```ts
 * checkLogMelSettings({ ...DEFAULT_LOG_MEL, melBands: 40 });
 * ```
 */
export function checkLogMelSettings(s: LogMelSettings): LogMelSettings {
  const int = (name: string, v: unknown, min: number, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InvalidOptionError(`features.${name}`, `an integer in [${min}, ${max}]`, v);
  };
  if (s?.kind !== 'logmel') throw new InvalidOptionError('features.kind', "'logmel'", s?.kind);
  int('sampleRate', s.sampleRate, 4000, 96000);
  int('fftSize', s.fftSize, 64, 8192);
  if ((s.fftSize & (s.fftSize - 1)) !== 0) throw new InvalidOptionError('features.fftSize', 'a power of two', s.fftSize);
  int('windowSize', s.windowSize, 16, s.fftSize);
  int('hopSize', s.hopSize, 1, s.windowSize);
  int('melBands', s.melBands, 1, 128);
  if (s.noiseFloorRiseDbPerSecond !== undefined && !(s.noiseFloorRiseDbPerSecond >= 0 && s.noiseFloorRiseDbPerSecond <= 1000)) {
    throw new InvalidOptionError('features.noiseFloorRiseDbPerSecond', 'a number in [0, 1000] (0: off)', s.noiseFloorRiseDbPerSecond);
  }
  if (!(s.fMin >= 0 && s.fMax > s.fMin && s.fMax <= s.sampleRate / 2)) throw new InvalidOptionError('features.fMin/fMax', `0 <= fMin < fMax <= ${s.sampleRate / 2}`, [s.fMin, s.fMax]);
  return s;
}

const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);

/**
 * Log-mel band energies of one frame: Hann window, real FFT (`fft.js`), power spectrum,
 * triangular mel filters (HTK scale), `ln(energy + 1e-10)`. One instance per stream; allocates
 * nothing per frame.
 *
 * @example
 * ```ts
 * const f = new LogMelFeatures(DEFAULT_LOG_MEL);
 * const out = new Float32Array(24);
 * f.compute(new Float32Array(400), 0, out); // silence: every band ln(1e-10)
 * ```
 */
export class LogMelFeatures {
  readonly settings: LogMelSettings;
  private readonly fft: FFT;
  private readonly window: Float64Array;
  private readonly frame: Float64Array;
  private readonly spectrum: number[];
  private readonly power: Float64Array;
  /** Per band: first bin, then the weights of consecutive bins. */
  private readonly bandStart: Int32Array;
  private readonly bandWeights: Float64Array[];

  constructor(settings: LogMelSettings) {
    this.settings = checkLogMelSettings(settings);
    const { windowSize: W, fftSize: N, melBands: M, sampleRate, fMin, fMax } = settings;
    this.fft = new FFT(N);
    this.window = new Float64Array(W);
    for (let i = 0; i < W; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / W);
    this.frame = new Float64Array(N);
    this.spectrum = this.fft.createComplexArray();
    this.power = new Float64Array(N / 2 + 1);
    const edges = Array.from({ length: M + 2 }, (_, i) => hz(mel(fMin) + ((mel(fMax) - mel(fMin)) * i) / (M + 1)));
    const binHz = sampleRate / N;
    this.bandStart = new Int32Array(M);
    this.bandWeights = [];
    for (let b = 0; b < M; b++) {
      const [lo, mid, hi] = [edges[b], edges[b + 1], edges[b + 2]];
      const first = Math.ceil(lo / binHz);
      const last = Math.min(N / 2, Math.floor(hi / binHz));
      const w: number[] = [];
      for (let k = first; k <= last; k++) {
        const f = k * binHz;
        w.push(f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid));
      }
      // a band narrower than one bin still reads its nearest bin
      if (w.length === 0) {
        this.bandStart[b] = Math.min(N / 2, Math.round(mid / binHz));
        this.bandWeights.push(Float64Array.of(1));
      } else {
        this.bandStart[b] = first;
        this.bandWeights.push(Float64Array.from(w, (v) => Math.max(0, v)));
      }
    }
  }

  /** Number of values per frame. */
  get size(): number {
    return this.settings.melBands;
  }

  /** Features of `samples[offset .. offset + windowSize)` into `out[outOffset ..]`. */
  compute(samples: ArrayLike<number>, offset: number, out: Float32Array, outOffset = 0): void {
    const { windowSize: W, fftSize: N } = this.settings;
    const frame = this.frame;
    for (let i = 0; i < W; i++) frame[i] = samples[offset + i] * this.window[i];
    const spec = this.spectrum;
    this.fft.realTransform(spec, frame);
    const power = this.power;
    for (let k = 0; k <= N / 2; k++) power[k] = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
    for (let b = 0; b < this.bandWeights.length; b++) {
      const w = this.bandWeights[b];
      const s0 = this.bandStart[b];
      let e = 0;
      for (let j = 0; j < w.length; j++) e += w[j] * power[s0 + j];
      out[outOffset + b] = Math.log(e + 1e-10);
    }
  }
}
