import { ModelFormatError } from '../errors.js';
import { RecurrentModel, type ModelJSON } from '../cells/model.js';
import type { Optimizer, OptimizerJSON } from './optimizers/optimizer.js';
import { optimizerFromJSON } from './optimizers/optimizerFromJSON.js';
import type { StateSnapshot } from '../cells/stateSnapshot.js';

/** A resumable training checkpoint as plain JSON: model, optimizer and (optionally) a stream's state. */
export interface TrainingCheckpointJSON {
  format: 'seqstream-training';
  version: 1;
  model: ModelJSON;
  optimizer: OptimizerJSON;
  /** Hidden state to resume the stream from (`trainOnline`'s `initialState`). */
  state?: StateSnapshot;
  /** Free-form facts the caller wants back (event count, data position ...). */
  meta?: Record<string, unknown>;
}

/** What a checkpoint holds once loaded. */
export interface TrainingCheckpoint {
  model: RecurrentModel;
  optimizer: Optimizer;
  state?: StateSnapshot;
  meta?: Record<string, unknown>;
}

/**
 * Bundles a model and its optimizer (buffers, step count, learning rate) into one JSON object.
 *
 * @example
 * ```ts
 * const json = trainingCheckpointToJSON({ model, optimizer });
 * const { model: m2, optimizer: o2 } = trainingCheckpointFromJSON(JSON.parse(JSON.stringify(json)));
 * ```
 */
export function trainingCheckpointToJSON(checkpoint: TrainingCheckpoint): TrainingCheckpointJSON {
  const out: TrainingCheckpointJSON = { format: 'seqstream-training', version: 1, model: checkpoint.model.toJSON(), optimizer: checkpoint.optimizer.toJSON() };
  if (checkpoint.state) out.state = checkpoint.state;
  if (checkpoint.meta) out.meta = checkpoint.meta;
  return out;
}

/**
 * Restores {@link trainingCheckpointToJSON} output. Throws `ModelFormatError`
 * (`SEQ_CHECKPOINT_FORMAT`, or the model's / optimizer's own codes) when it does not fit.
 *
 * @example
 * ```ts
 * const { model, optimizer } = trainingCheckpointFromJSON(json);
 * ```
 */
export function trainingCheckpointFromJSON(json: unknown): TrainingCheckpoint {
  const j = json as Partial<TrainingCheckpointJSON> | null;
  if (!j || typeof j !== 'object' || j.format !== 'seqstream-training' || j.version !== 1) {
    throw new ModelFormatError('SEQ_CHECKPOINT_FORMAT', "Not a seqstream training checkpoint: expected format 'seqstream-training' version 1", {});
  }
  const model = RecurrentModel.fromJSON(j.model);
  const optimizer = optimizerFromJSON(j.optimizer);
  const names = new Set(model.parameters().map((p) => p.name));
  const stray = Object.keys(j.optimizer!.state).filter((n) => !names.has(n));
  if (stray.length > 0) throw new ModelFormatError('SEQ_CHECKPOINT_FORMAT', `Optimizer state names parameters the model lacks: ${stray.join(', ')}`, { stray });
  return { model, optimizer, state: j.state, meta: j.meta };
}
