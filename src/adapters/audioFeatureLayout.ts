import type { AudioFeatureOptions } from './internal/audioOptions.js';
import { resolveAudioOptions } from './internal/audioOptions.js';
import { FeatureExtractor, type AudioFeatureLayout } from './internal/featureExtractor.js';

export type { AudioFeatureLayout, FeatureLayoutEntry } from './internal/featureExtractor.js';

/**
 * The layout of the feature vector the audio adapters emit for `options`, without audio:
 * features in the order of `options.features`, each vector-valued one expanded in place
 * (`mfcc`: `mfccCoefficients` values, `melBands`: `melBands`, `chroma`: `chromaBands`,
 * `loudness`: `barkBands` specific values then the total, `amplitudeSpectrum`/`powerSpectrum`:
 * `bufferSize / 2`, `buffer`: `bufferSize`, `complexSpectrum`: `bufferSize` real then
 * `bufferSize` imaginary; every other feature: 1). `length` is the `inputSize` a model needs.
 * The layout does not depend on the sample rate.
 *
 * @example
 * ```ts
 * import { audioFeatureLayout } from 'seqstream/adapters/audioFeatureLayout';
 * const layout = audioFeatureLayout({ features: ['rms', 'mfcc'], mfccCoefficients: 13 });
 * layout.length;   // 14
 * layout.labels;   // ['rms', 'mfcc[0]', ..., 'mfcc[12]']
 * const model = RecurrentModel.create({ cell: 'lstm', inputSize: layout.length, hiddenSize: 32 });
 * ```
 */
export function audioFeatureLayout(options: AudioFeatureOptions): AudioFeatureLayout {
  const resolved = resolveAudioOptions(options, false);
  return new FeatureExtractor(resolved, resolved.sampleRate ?? 44100).layout;
}
