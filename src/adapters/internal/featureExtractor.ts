import { InvalidOptionError, SeqstreamError } from '../../errors.js';
import type { ResolvedAudioOptions } from './audioOptions.js';
import { requireOptional } from './requireOptional.js';

/** The part of Meyda's default export this adapter uses. */
interface MeydaLike {
  bufferSize: number;
  sampleRate: number;
  melBands: number;
  chromaBands: number;
  windowingFunction: string;
  numberOfMFCCCoefficients: number;
  numberOfBarkBands: number;
  listAvailableFeatureExtractors(): string[];
  extract(features: string[], signal: Float32Array): Record<string, unknown> | null;
  [cache: string]: unknown;
}

/** Meyda caches these on whatever object `extract` is called on; a fresh instance must not inherit them. */
const MEYDA_CACHES = [
  'barkScale', 'melFilterBank', 'chromaFilterBank', 'signal', 'complexSpectrum', 'ampSpectrum',
  'previousSignal', 'previousComplexSpectrum', 'previousAmpSpectrum',
];

/** Extractors that Meyda lists but cannot run frame by frame. */
const BROKEN: Record<string, string> = {
  spectralFlux: 'Meyda 5.6 spectralFlux throws (it assigns an undeclared variable and reads negative indices)',
};

/** Where one feature sits in the frame vector. */
export interface FeatureLayoutEntry {
  /** Meyda extractor name. */
  readonly feature: string;
  /** Index of its first value in the vector. */
  readonly offset: number;
  /** How many values it has (1 for scalars). */
  readonly length: number;
}

/** The layout of the vector {@link FeatureExtractor.extract} returns. */
export interface AudioFeatureLayout {
  /** Features in output order. */
  readonly entries: readonly FeatureLayoutEntry[];
  /** Total vector length: the `inputSize` a model needs. */
  readonly length: number;
  /** One label per value: `rms`, `mfcc[0]`, `loudness.specific[3]`, `loudness.total`, ... */
  readonly labels: readonly string[];
}

let meyda: MeydaLike | undefined;
function loadMeyda(): MeydaLike {
  meyda ??= requireOptional<MeydaLike>('meyda', 'seqstream audio adapters');
  return meyda;
}

/** Meyda extractor names this adapter accepts. */
export function availableAudioFeatures(): string[] {
  return loadMeyda().listAvailableFeatureExtractors().filter((f) => !(f in BROKEN));
}

/**
 * Writes one Meyda result into `out` at `offset` (when `out` is given) and returns how many
 * values it has. Vectors expand in place; `loudness` is `specific` then `total`;
 * `complexSpectrum` is `real` then `imag`.
 */
function flatten(value: unknown, out: Float32Array | null, offset: number, labels: string[] | null, name: string): number {
  if (typeof value === 'number') {
    if (out) out[offset] = value;
    labels?.push(name);
    return 1;
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const v = value as ArrayLike<number>;
    if (out) for (let i = 0; i < v.length; i++) out[offset + i] = v[i];
    if (labels) for (let i = 0; i < v.length; i++) labels.push(`${name}[${i}]`);
    return v.length;
  }
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const parts = 'specific' in o ? ['specific', 'total'] : 'real' in o ? ['real', 'imag'] : null;
    if (parts) {
      let n = 0;
      for (const p of parts) n += flatten(o[p], out, offset + n, labels, `${name}.${p}`);
      return n;
    }
  }
  throw new SeqstreamError('SEQ_AUDIO_FEATURE_SHAPE', `Meyda feature '${name}' returned an unsupported value`, { feature: name });
}

/**
 * One stream's private Meyda: a copy of Meyda's default export (the way Meyda's own
 * `createMeydaAnalyzer` makes one) with this stream's settings and its own filter-bank caches,
 * so the global Meyda object is never read or written while extracting.
 */
export class FeatureExtractor {
  readonly layout: AudioFeatureLayout;
  private readonly meyda: MeydaLike;
  private readonly features: string[];

  constructor(options: ResolvedAudioOptions, sampleRate: number) {
    const base = loadMeyda();
    const available = base.listAvailableFeatureExtractors();
    for (const f of options.features) {
      if (f in BROKEN) throw new InvalidOptionError('features', `Meyda feature names (${BROKEN[f]})`, f);
      if (!available.includes(f)) {
        throw new InvalidOptionError('features', `Meyda feature names, one of ${availableAudioFeatures().join(', ')}`, f);
      }
    }
    const m = Object.assign({}, base) as MeydaLike;
    for (const key of MEYDA_CACHES) m[key] = undefined;
    m.bufferSize = options.bufferSize;
    m.sampleRate = sampleRate;
    m.melBands = options.melBands;
    m.chromaBands = options.chromaBands;
    m.windowingFunction = options.windowingFunction;
    m.numberOfMFCCCoefficients = options.mfccCoefficients;
    m.numberOfBarkBands = options.barkBands;
    this.meyda = m;
    this.features = options.features;

    // Probe once with a tone to learn each feature's length (and to fail now, not mid-stream).
    const probe = new Float32Array(options.bufferSize);
    for (let i = 0; i < probe.length; i++) probe[i] = Math.sin((2 * Math.PI * 5 * i) / probe.length);
    const result = this.run(probe);
    const entries: FeatureLayoutEntry[] = [];
    const labels: string[] = [];
    let offset = 0;
    for (const f of this.features) {
      const length = flatten(result[f], null, 0, labels, f);
      entries.push({ feature: f, offset, length });
      offset += length;
    }
    this.layout = { entries, length: offset, labels };
  }

  private run(frame: Float32Array): Record<string, unknown> {
    let result: Record<string, unknown> | null;
    try {
      result = this.meyda.extract(this.features, frame);
    } catch (err) {
      throw new SeqstreamError('SEQ_AUDIO_EXTRACT', `Meyda failed to extract [${this.features.join(', ')}]: ${(err as Error).message}`, { cause: err });
    }
    if (!result) throw new SeqstreamError('SEQ_AUDIO_EXTRACT', 'Meyda returned no features', {});
    return result;
  }

  /** Features of one frame (`bufferSize` samples) as a fresh vector laid out as {@link layout}. */
  extract(frame: Float32Array): Float32Array {
    const result = this.run(frame);
    const out = new Float32Array(this.layout.length);
    for (const e of this.layout.entries) flatten(result[e.feature], out, e.offset, null, e.feature);
    return out;
  }
}
