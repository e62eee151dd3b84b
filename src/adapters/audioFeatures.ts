import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidOptionError, SeqstreamError, describe } from '../errors.js';
import { checkSampleRate, resolveAudioOptions, type AudioFeatureOptions } from './internal/audioOptions.js';
import type { AudioFeatureLayout } from './internal/featureExtractor.js';
import { checkSamples, FeaturePipeline, type AudioFrame } from './internal/featurePipeline.js';
import { MAX_CHANNELS } from './internal/pcmDecoder.js';

export type { AudioFrame } from './internal/featurePipeline.js';
export type { AudioFeatureOptions, WindowingFunction } from './internal/audioOptions.js';
export type { AudioFeatureLayout, FeatureLayoutEntry } from './internal/featureExtractor.js';
export type { AudioSource } from './internal/audioSource.js';

/** Options of {@link audioFeatures}. */
export interface AudioFeaturesOptions extends AudioFeatureOptions {
  /** Rate (Hz) the features are computed at. Required. */
  sampleRate: number;
  /** Rate of the incoming blocks; when it differs from `sampleRate` see `rateMismatch`. Default `sampleRate`. */
  inputSampleRate?: number;
  /** Interleaved channels per block, averaged to mono; a block's length must be a multiple. Default `1`. */
  channels?: number;
}

/** {@link audioFeatures}' operator, carrying the layout of the vectors it emits. */
export type AudioFeaturesOperator = OperatorFunction<ArrayLike<number>, AudioFrame> & {
  /** Layout of every frame's `x`; `layout.length` is the model's `inputSize`. */
  readonly layout: AudioFeatureLayout;
};

/**
 * Turns an Observable of sample blocks (any length; `Float32Array`, `Float64Array` or
 * `number[]`, values nominally in [-1, 1]) into one feature vector per frame, computed by Meyda.
 *
 * Algorithm, per subscription (each has its own state and its own Meyda instance):
 * 1. Check the block (type, length a multiple of `channels`, every sample finite) and average
 *    its channels to mono.
 * 2. If `inputSampleRate` differs from `sampleRate`, resample (band-limited windowed sinc,
 *    16 zero crossings, Blackman window), unless `rateMismatch: 'error'`.
 * 3. Append to the frame buffer; for every complete frame k (samples
 *    `[k*hopSize, k*hopSize + bufferSize)`) apply the window, extract `features` in order,
 *    expand vectors in place, replace non-finite values (`nonFinite`), and emit
 *    `{ x, index: k, time: k * hopSize / sampleRate }`.
 * 4. When the source completes, emit the zero-padded last partial frame if some samples are in
 *    no frame yet (`lastFrame: 'pad'`), then complete.
 * Bad blocks end the stream with `subscriber.error` (codes `SEQ_AUDIO_BLOCK_TYPE`,
 * `SEQ_AUDIO_BLOCK_SHAPE`, `SEQ_AUDIO_NON_FINITE`); other streams are not affected.
 *
 * Options (see {@link AudioFeatureOptions} for the rest): `sampleRate` required,
 * `inputSampleRate` (default `sampleRate`), `channels` (default 1), `bufferSize` (512),
 * `hopSize` (`bufferSize`), `windowingFunction` (`'hanning'`), `mfccCoefficients` (13),
 * `melBands` (26), `chromaBands` (12), `barkBands` (24), `lastFrame` (`'pad'`),
 * `nonFinite` (`'zero'`), `rateMismatch` (`'resample'`). A block is processed as it comes: the
 * operator holds at most `bufferSize` plus one block of samples.
 *
 * @example
 * ```ts
 * import { audioFeatures } from 'seqstream/adapters/audioFeatures';
 * const toMfcc = audioFeatures({ sampleRate: 16000, features: ['mfcc'], bufferSize: 512, hopSize: 256 });
 * micBlocks$.pipe(toMfcc).subscribe(({ x, time }) => console.log(time.toFixed(3), x));
 * toMfcc.layout.length; // 13
 * ```
 */
export function audioFeatures(options: AudioFeaturesOptions): AudioFeaturesOperator {
  const resolved = resolveAudioOptions(options, true);
  const sampleRate = resolved.sampleRate as number;
  const inputRate = options.inputSampleRate === undefined ? sampleRate : checkSampleRate('inputSampleRate', options.inputSampleRate);
  const channels = options.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new InvalidOptionError('channels', `an integer in [1, ${MAX_CHANNELS}]`, channels);
  }
  // Validates features and rate policy now rather than at the first subscription.
  const { layout } = new FeaturePipeline(resolved, inputRate, () => undefined).extractor;

  const operator = (source: Observable<ArrayLike<number>>): Observable<AudioFrame> =>
    new Observable<AudioFrame>((subscriber) => {
      const pipeline = new FeaturePipeline(resolved, inputRate, (frame) => subscriber.next(frame));
      let blocks = 0;
      const subscription = source.subscribe({
        next: (block) => {
          try {
            pipeline.push(toMono(block, channels, blocks++));
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          try {
            pipeline.end();
            subscriber.complete();
          } catch (err) {
            subscriber.error(err);
          }
        },
      });
      return () => {
        pipeline.stop();
        subscription.unsubscribe();
      };
    });
  return Object.assign(operator, { layout });
}

function toMono(block: ArrayLike<number>, channels: number, index: number): ArrayLike<number> {
  if (!(block instanceof Float32Array || block instanceof Float64Array || Array.isArray(block))) {
    throw new SeqstreamError('SEQ_AUDIO_BLOCK_TYPE', `Sample block ${index} must be a Float32Array, Float64Array or number[], received ${describe(block)}`, { block: index });
  }
  if (block.length % channels !== 0) {
    throw new SeqstreamError('SEQ_AUDIO_BLOCK_SHAPE', `Sample block ${index} has ${block.length} samples, not a multiple of ${channels} channels`, { block: index, length: block.length, channels });
  }
  checkSamples(block, `Sample block ${index}`);
  if (channels === 1) return block;
  const mono = new Float32Array(block.length / channels);
  for (let f = 0; f < mono.length; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += block[f * channels + c];
    mono[f] = sum / channels;
  }
  return mono;
}
