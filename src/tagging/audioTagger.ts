import { InvalidInputError, InvalidOptionError } from '../errors.js';
import type { ModelState } from '../cells/types.js';
import { createFusedStepper, type FusedStepper } from '../kernels/fusedStepper.js';
import { Resampler } from '../adapters/internal/resampler.js';
import { featureSize, LogMelFeatures, NoiseFloor } from './logMelFeatures.js';
import { Segmenter, type Segment, type SmoothingOptions } from './segmenter.js';
import type { Tagger } from './taggerModel.js';

/** What an {@link AudioTagger} emits: a decided segment, or (with `frames`) one frame's probabilities. */
export type TagEvent = ({ kind: 'segment' } & Segment) | { kind: 'frame'; time: number; probabilities: Float32Array };

/** Options of {@link AudioTagger}. */
export interface AudioTaggerOptions {
  /** Sample rate of the samples pushed in; resampled to the model's (band-limited sinc). Default: the model's. */
  sampleRate?: number;
  /** Emit `{ kind: 'frame' }` events too. Default false. */
  frames?: boolean;
  /** Overrides of the model's recorded smoothing. Default none. */
  smoothing?: SmoothingOptions;
}

/** Lowest and highest input sample rates accepted (the resampler's range). */
export const TAG_RATE_RANGE = [1000, 768000] as const;

/**
 * Streaming audio tagger: mono samples in, frame probabilities and segments out.
 *
 * Algorithm:
 * 1. Resample to the model's rate when needed (streaming, band-limited).
 * 2. Every `hopSize` samples, log-mel features of the last `windowSize` samples (the first
 *    frames see leading zeros), normalised with the model file's mean and std.
 * 3. One recurrent step on the fused stepper (WebAssembly SIMD where it loads) and the sigmoid
 *    head: one probability per label.
 * 4. Per label, the hysteresis {@link Segmenter} decides segments; each is emitted as soon as
 *    it is decided (one hop plus `minSilenceMs` after it ends).
 * Frame k covers `[k·hop, (k+1)·hop)` of the (resampled) audio, its window centred on that slot.
 * NaN or ±Infinity samples throw `SEQ_AUDIO_NON_FINITE` (nothing is emitted for them).
 *
 * @example
 * ```ts
 * const tagger = new AudioTagger(loadShippedVad(), { sampleRate: 44100 });
 * for (const block of blocks) for (const e of tagger.push(block)) console.log(e);
 * for (const e of tagger.end()) console.log(e);
 * ```
 */
export class AudioTagger {
  private readonly features: LogMelFeatures;
  private readonly floor: NoiseFloor | null;
  private readonly resampler: Resampler | null;
  private readonly segmenters: Segmenter[];
  private readonly state: ModelState;
  private readonly stepper: FusedStepper;
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private readonly ring: Float32Array;
  private readonly window: Float32Array;
  private readonly hop: number;
  private readonly win: number;
  private readonly rate: number;
  private readonly lead: number;
  private readonly emitFrames: boolean;
  /** Samples received (at the model's rate) and frames computed. */
  private samples = 0;
  private frame = 0;
  private ended = false;

  constructor(readonly tagger: Tagger, options: AudioTaggerOptions = {}) {
    const f = tagger.features;
    const inRate = options.sampleRate ?? f.sampleRate;
    if (!Number.isInteger(inRate) || inRate < TAG_RATE_RANGE[0] || inRate > TAG_RATE_RANGE[1]) {
      throw new InvalidOptionError('sampleRate', `an integer in [${TAG_RATE_RANGE[0]}, ${TAG_RATE_RANGE[1]}] Hz`, inRate);
    }
    this.features = new LogMelFeatures(f);
    this.resampler = inRate === f.sampleRate ? null : new Resampler(inRate, f.sampleRate);
    const smoothing = { ...tagger.smoothing, ...options.smoothing };
    this.segmenters = tagger.labels.map((label) => new Segmenter(label, f.hopSize / f.sampleRate, smoothing));
    this.state = tagger.model.createState();
    this.stepper = createFusedStepper(tagger.model);
    this.x = new Float32Array(featureSize(f));
    this.floor = featureSize(f) > f.melBands ? new NoiseFloor(f) : null;
    this.y = new Float32Array(tagger.labels.length);
    this.hop = f.hopSize;
    this.win = f.windowSize;
    this.rate = f.sampleRate;
    // the window of frame k is centred on its slot: it starts `lead` samples before k·hop
    this.lead = Math.floor((this.win - this.hop) / 2);
    this.ring = new Float32Array(2 * this.win);
    this.window = new Float32Array(this.win);
    this.emitFrames = options.frames ?? false;
  }

  /** Seconds of audio per frame. */
  get hopSeconds(): number {
    return this.hop / this.rate;
  }

  /** Pushes mono samples at the input rate; returns the events now decided. */
  push(block: ArrayLike<number>): TagEvent[] {
    if (this.ended) throw new InvalidOptionError('push', 'called before end()', 'after end()');
    for (let i = 0; i < block.length; i++) {
      if (!Number.isFinite(block[i])) throw new InvalidInputError('SEQ_AUDIO_NON_FINITE', `Sample ${i} of the block is ${block[i]}`, { index: i });
    }
    const samples = this.resampler ? this.resampler.push(block) : block;
    const out: TagEvent[] = [];
    this.feed(samples, out);
    return out;
  }

  /** Ends the audio: pads the last frame with zeros, decides the open segments. */
  end(): TagEvent[] {
    if (this.ended) return [];
    const out: TagEvent[] = [];
    if (this.resampler) this.feed(this.resampler.flush(), out);
    this.ended = true;
    const total = this.samples;
    // every frame whose slot starts before the end of the audio, zeros past it
    const zero = [0];
    while (this.frame * this.hop < total) this.feed(zero, out);
    const endTime = total / this.rate;
    for (const s of this.segmenters) for (const seg of s.end(endTime)) out.push({ kind: 'segment', ...seg });
    return out;
  }

  private feed(samples: ArrayLike<number>, out: TagEvent[]): void {
    const R = this.ring.length;
    for (let i = 0; i < samples.length; i++) {
      this.ring[this.samples % R] = samples[i];
      this.samples++;
      // frame k's window ends at k·hop - lead + win
      if (this.samples === this.frame * this.hop - this.lead + this.win) this.step(out);
    }
  }

  private step(out: TagEvent[]): void {
    const R = this.ring.length;
    const first = this.frame * this.hop - this.lead;
    const w = this.window;
    for (let i = 0; i < this.win; i++) {
      const at = first + i;
      w[i] = at < 0 ? 0 : this.ring[at % R];
    }
    this.features.compute(w, 0, this.x);
    this.floor?.apply(this.x, 0);
    const { mean, invStd } = this.tagger;
    for (let k = 0; k < this.x.length; k++) this.x[k] = (this.x[k] - mean[k]) * invStd[k];
    this.stepper.stepInPlace(this.state, this.x);
    this.stepper.headInPlace(this.state, this.y);
    const time = (this.frame * this.hop) / this.rate;
    if (this.emitFrames) out.push({ kind: 'frame', time: Math.round(time * 1e6) / 1e6, probabilities: this.y.slice() });
    for (let l = 0; l < this.segmenters.length; l++) for (const seg of this.segmenters[l].push(time, this.y[l])) out.push({ kind: 'segment', ...seg });
    this.frame++;
  }

}
