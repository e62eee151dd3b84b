import { SeqstreamError } from '../../errors.js';
import type { ResolvedAudioOptions } from './audioOptions.js';
import { FeatureExtractor } from './featureExtractor.js';
import { Framer } from './framer.js';
import { Resampler } from './resampler.js';

/** One analysed frame of audio. */
export interface AudioFrame {
  /** The feature vector, laid out as the source's `layout` says (fresh for every frame). */
  readonly x: Float32Array;
  /** Frame number, from 0. */
  readonly index: number;
  /** Start of the frame in seconds from the start of the stream: `index * hopSize / sampleRate`. */
  readonly time: number;
}

/**
 * Per-stream state: optional resampler -> framer -> private Meyda. Everything a subscription
 * owns lives here, so two subscriptions share nothing.
 */
export class FeaturePipeline {
  readonly extractor: FeatureExtractor;
  readonly sampleRate: number;
  private readonly resampler: Resampler | null;
  private readonly framer: Framer;
  private readonly emitFrame: (frame: Float32Array, index: number) => void;
  private stopped = false;

  constructor(
    private readonly options: ResolvedAudioOptions,
    inputRate: number,
    emit: (frame: AudioFrame) => void,
  ) {
    const sampleRate = options.sampleRate ?? inputRate;
    this.sampleRate = sampleRate;
    if (inputRate !== sampleRate) {
      if (options.rateMismatch === 'error') {
        throw new SeqstreamError(
          'SEQ_AUDIO_RATE_MISMATCH',
          `Audio at ${inputRate} Hz does not match sampleRate ${sampleRate} Hz (rateMismatch: 'error'; use 'resample' to convert it)`,
          { inputRate, sampleRate },
        );
      }
      this.resampler = new Resampler(inputRate, sampleRate);
    } else {
      this.resampler = null;
    }
    this.extractor = new FeatureExtractor(options, sampleRate);
    this.framer = new Framer(options.bufferSize, options.hopSize);
    const secondsPerHop = options.hopSize / sampleRate;
    this.emitFrame = (frame, index) => {
      if (this.stopped) return;
      const x = this.extractor.extract(frame);
      this.checkFinite(x, index);
      emit({ x, index, time: index * secondsPerHop });
    };
  }

  /** Feeds mono samples at the input rate; emits every frame completed by them. */
  push(samples: ArrayLike<number>): void {
    this.framer.push(this.resampler ? this.resampler.push(samples) : samples, this.emitFrame);
  }

  /** Ends the stream: drains the resampler and emits the zero-padded last frame (unless `lastFrame: 'drop'`). */
  end(): void {
    if (this.resampler) this.framer.push(this.resampler.flush(), this.emitFrame);
    if (this.options.lastFrame === 'pad') this.framer.flush(this.emitFrame);
  }

  /** Teardown: frames still being cut from the current block are no longer analysed. */
  stop(): void {
    this.stopped = true;
  }

  private checkFinite(x: Float32Array, index: number): void {
    if (this.options.nonFinite === 'keep') return;
    for (let i = 0; i < x.length; i++) {
      if (Number.isFinite(x[i])) continue;
      if (this.options.nonFinite === 'zero') {
        x[i] = 0;
        continue;
      }
      const label = this.extractor.layout.labels[i];
      throw new SeqstreamError('SEQ_AUDIO_FEATURE_NON_FINITE', `Feature ${label} of frame ${index} is ${x[i]}`, { index, feature: label });
    }
  }
}

/** Throws `SEQ_AUDIO_NON_FINITE` when a decoded or given sample is NaN or infinite. */
export function checkSamples(samples: ArrayLike<number>, where: string): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new SeqstreamError('SEQ_AUDIO_NON_FINITE', `${where}: sample ${i} is ${samples[i]}`, { sample: i });
    }
  }
}
