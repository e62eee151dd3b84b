import { InvalidOptionError } from '../../errors.js';

/** Meyda's window names; `'rect'` means no window. */
export type WindowingFunction = 'hanning' | 'hamming' | 'blackman' | 'sine' | 'rect';
const WINDOWS: readonly WindowingFunction[] = ['hanning', 'hamming', 'blackman', 'sine', 'rect'];

/** Largest accepted `bufferSize` (2^15 samples). */
export const MAX_BUFFER_SIZE = 32768;
/** Smallest accepted `bufferSize`. */
export const MIN_BUFFER_SIZE = 32;
/** Largest accepted `hopSize` (2^20 samples). */
export const MAX_HOP_SIZE = 1 << 20;
/** Accepted sample rates, in Hz. */
export const MIN_SAMPLE_RATE = 1000;
export const MAX_SAMPLE_RATE = 768000;

/**
 * Feature extraction settings shared by every audio source. Each stream keeps its own copy:
 * two streams with different settings never disturb each other.
 */
export interface AudioFeatureOptions {
  /**
   * Meyda extractor names, in output order: `mfcc`, `rms`, `zcr`, `spectralCentroid`, `chroma`,
   * `melBands`, `loudness`, `energy`, `spectralFlatness`, `spectralRolloff`, ... (any Meyda 5
   * extractor except `spectralFlux`, which throws in Meyda 5.6). Vector features expand in place.
   * Required, non-empty, no repeats.
   */
  features: readonly string[];
  /**
   * Rate (Hz) the features are computed at (Meyda's `sampleRate`). Required for PCM streams and
   * sample blocks; for a WAV file it defaults to the file's own rate.
   */
  sampleRate?: number;
  /** Samples per frame, a power of two in [32, 32768] as Meyda's FFT requires. Default `512`. */
  bufferSize?: number;
  /** Samples between the starts of two frames, an integer in [1, 2^20]. Default `bufferSize` (no overlap). */
  hopSize?: number;
  /** Window applied before the FFT (Meyda's `windowingFunction`); time-domain features (`rms`, `zcr`, `energy`) see the windowed frame too. Default `'hanning'`. */
  windowingFunction?: WindowingFunction;
  /** Number of MFCCs (Meyda's `numberOfMFCCCoefficients`), in [1, 40] and at most `melBands`. Default `13`. */
  mfccCoefficients?: number;
  /** Mel filters for `melBands` and `mfcc`, in [1, 128]. Default `26`. */
  melBands?: number;
  /** Chroma bands, in [1, 96]. Default `12`. */
  chromaBands?: number;
  /** Bark bands of `loudness.specific`, in [1, 64]. Default `24`. */
  barkBands?: number;
  /** `'pad'` (default): a last partial frame is zero-padded and emitted; `'drop'`: it is not. */
  lastFrame?: 'pad' | 'drop';
  /**
   * What to do with a NaN or infinite feature value (e.g. `spectralCentroid` of digital silence
   * is 0/0): `'zero'` (default) writes 0, `'error'` fails with `SEQ_AUDIO_FEATURE_NON_FINITE`,
   * `'keep'` passes it on.
   */
  nonFinite?: 'zero' | 'error' | 'keep';
  /**
   * When the input rate differs from `sampleRate`: `'resample'` (default) converts it with a
   * band-limited windowed-sinc resampler, `'error'` fails with `SEQ_AUDIO_RATE_MISMATCH`.
   */
  rateMismatch?: 'resample' | 'error';
}

/** Options with every default filled in; `sampleRate` may still be unknown (WAV: from the header). */
export interface ResolvedAudioOptions {
  features: string[];
  sampleRate: number | undefined;
  bufferSize: number;
  hopSize: number;
  windowingFunction: WindowingFunction;
  mfccCoefficients: number;
  melBands: number;
  chromaBands: number;
  barkBands: number;
  lastFrame: 'pad' | 'drop';
  nonFinite: 'zero' | 'error' | 'keep';
  rateMismatch: 'resample' | 'error';
}

function intIn(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/** Validates a sample rate option (integer Hz in the accepted range). */
export function checkSampleRate(name: string, value: unknown): number {
  return intIn(name, value, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE, NaN);
}

/** Validates and fills defaults; throws {@link InvalidOptionError} synchronously. */
export function resolveAudioOptions(
  options: AudioFeatureOptions,
  requireSampleRate: boolean,
): ResolvedAudioOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const { features } = options;
  if (!Array.isArray(features) || features.length === 0 || !features.every((f) => typeof f === 'string')) {
    throw new InvalidOptionError('features', 'a non-empty array of Meyda feature names', features);
  }
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f)) throw new InvalidOptionError('features', 'names without repeats', `"${f}" twice`);
    seen.add(f);
  }
  let sampleRate: number | undefined;
  if (options.sampleRate === undefined) {
    if (requireSampleRate) {
      throw new InvalidOptionError('sampleRate', `an integer in [${MIN_SAMPLE_RATE}, ${MAX_SAMPLE_RATE}] (required)`, undefined);
    }
  } else {
    sampleRate = checkSampleRate('sampleRate', options.sampleRate);
  }
  const bufferSize = intIn('bufferSize', options.bufferSize, MIN_BUFFER_SIZE, MAX_BUFFER_SIZE, 512);
  if ((bufferSize & (bufferSize - 1)) !== 0) {
    throw new InvalidOptionError('bufferSize', 'a power of two (Meyda requires it), e.g. 512 or 1024', bufferSize);
  }
  const melBands = intIn('melBands', options.melBands, 1, 128, 26);
  const mfccCoefficients = intIn('mfccCoefficients', options.mfccCoefficients, 1, 40, 13);
  if (mfccCoefficients > melBands) {
    throw new InvalidOptionError('mfccCoefficients', `at most melBands (${melBands})`, mfccCoefficients);
  }
  return {
    features: [...features],
    sampleRate,
    bufferSize,
    hopSize: intIn('hopSize', options.hopSize, 1, MAX_HOP_SIZE, bufferSize),
    windowingFunction: oneOf('windowingFunction', options.windowingFunction, WINDOWS, 'hanning'),
    mfccCoefficients,
    melBands,
    chromaBands: intIn('chromaBands', options.chromaBands, 1, 96, 12),
    barkBands: intIn('barkBands', options.barkBands, 1, 64, 24),
    lastFrame: oneOf('lastFrame', options.lastFrame, ['pad', 'drop'] as const, 'pad'),
    nonFinite: oneOf('nonFinite', options.nonFinite, ['zero', 'error', 'keep'] as const, 'zero'),
    rateMismatch: oneOf('rateMismatch', options.rateMismatch, ['resample', 'error'] as const, 'resample'),
  };
}
