import { ModelFormatError } from '../errors.js';
import { RecurrentModel, type ModelJSON } from '../cells/model.js';
import { checkLogMelSettings, featureSize, type LogMelSettings } from './logMelFeatures.js';
import { resolveSmoothing, type SmoothingOptions } from './segmenter.js';

/** A tagger file: everything `seqstream tag` needs besides the audio. */
export interface TaggerJSON {
  format: 'seqstream-tagger';
  version: 1;
  /** One label per head output (sigmoid each: labels may overlap). */
  labels: string[];
  features: LogMelSettings;
  /** Per feature value: `(x - mean) / std` before the model. */
  normalization: { mean: number[]; std: number[] };
  model: ModelJSON;
  smoothing: SmoothingOptions;
  /** How it was trained and what it scored (free-form, for people). */
  training?: Record<string, unknown>;
}

/** A loaded tagger: the recurrent model plus its feature and smoothing settings. */
export interface Tagger {
  readonly labels: readonly string[];
  readonly features: LogMelSettings;
  readonly mean: Float32Array;
  readonly invStd: Float32Array;
  readonly model: RecurrentModel;
  readonly smoothing: Required<SmoothingOptions>;
  readonly json: TaggerJSON;
}

/**
 * Loads and checks a tagger document (`SEQ_MODEL_FORMAT` when it is not one, or its parts do not fit).
 *
 * @example
 * ```ts
 * const tagger = taggerFromJSON(JSON.parse(readFileSync('model.json', 'utf8')));
 * tagger.labels; // ['speech']
 * ```
 */
export function taggerFromJSON(json: unknown): Tagger {
  const j = json as Partial<TaggerJSON> | null;
  const bad = (why: string): never => {
    throw new ModelFormatError('SEQ_MODEL_FORMAT', `Not a usable seqstream tagger: ${why}`, {});
  };
  if (!j || typeof j !== 'object' || j.format !== 'seqstream-tagger') bad("expected format 'seqstream-tagger'");
  if (j!.version !== 1) bad(`unsupported version ${String(j!.version)} (this build reads 1)`);
  if (!Array.isArray(j!.labels) || j!.labels.length === 0 || j!.labels.some((l) => typeof l !== 'string')) bad('labels must be a non-empty array of strings');
  let features: LogMelSettings;
  try {
    features = checkLogMelSettings(j!.features as LogMelSettings);
  } catch (e) {
    return bad(`features: ${(e as Error).message}`);
  }
  const model = RecurrentModel.fromJSON(j!.model);
  const F = featureSize(features);
  if (model.config.inputSize !== F) bad(`the model reads ${model.config.inputSize} inputs but the features give ${F}`);
  const head = model.config.head;
  if (!head || head.activation !== 'sigmoid' || head.outputSize !== j!.labels!.length) bad(`the model needs a sigmoid head with one output per label (${j!.labels!.length})`);
  const { mean, std } = j!.normalization ?? ({} as TaggerJSON['normalization']);
  if (!Array.isArray(mean) || !Array.isArray(std) || mean.length !== F || std.length !== F || [...mean, ...std].some((v) => !Number.isFinite(v)) || std.some((v) => v <= 0)) {
    bad(`normalization needs ${F} finite means and positive stds`);
  }
  return {
    labels: j!.labels!.slice(),
    features,
    mean: Float32Array.from(mean),
    invStd: Float32Array.from(std, (s) => 1 / s),
    model,
    smoothing: resolveSmoothing(j!.smoothing ?? {}),
    json: j as TaggerJSON,
  };
}
