import { InvalidOptionError } from '../../errors.js';
import { integerOption, oneOfOption } from '../../options.js';

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

/** Validates a sample rate option (integer Hz in the accepted range). */
export function checkSampleRate(name: string, value: unknown): number {
  return integerOption(name, value, NaN, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE);
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
  const bufferSize = integerOption('bufferSize', options.bufferSize, 512, MIN_BUFFER_SIZE, MAX_BUFFER_SIZE);
  if ((bufferSize & (bufferSize - 1)) !== 0) {
    throw new InvalidOptionError('bufferSize', 'a power of two (Meyda requires it), e.g. 512 or 1024', bufferSize);
  }
  const melBands = integerOption('melBands', options.melBands, 26, 1, 128);
  const mfccCoefficients = integerOption('mfccCoefficients', options.mfccCoefficients, 13, 1, 40);
  if (mfccCoefficients > melBands) {
    throw new InvalidOptionError('mfccCoefficients', `at most melBands (${melBands})`, mfccCoefficients);
  }
  return {
    features: [...features],
    sampleRate,
    bufferSize,
    hopSize: integerOption('hopSize', options.hopSize, bufferSize, 1, MAX_HOP_SIZE),
    windowingFunction: oneOfOption('windowingFunction', options.windowingFunction, WINDOWS, 'hanning'),
    mfccCoefficients,
    melBands,
    chromaBands: integerOption('chromaBands', options.chromaBands, 12, 1, 96),
    barkBands: integerOption('barkBands', options.barkBands, 24, 1, 64),
    lastFrame: oneOfOption('lastFrame', options.lastFrame, ['pad', 'drop'] as const, 'pad'),
    nonFinite: oneOfOption('nonFinite', options.nonFinite, ['zero', 'error', 'keep'] as const, 'zero'),
    rateMismatch: oneOfOption('rateMismatch', options.rateMismatch, ['resample', 'error'] as const, 'resample'),
  };
}
