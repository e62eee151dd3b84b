import type * as tf from '@tensorflow/tfjs';
import type { RecurrentModel } from '../cells/model.js';
import type { HeadActivation } from '../cells/types.js';
import { tfjs } from './tfjsRuntime.js';

/** tfjs copies of a model's weights, transposed for `x @ W^T`. Owned by the model; do not dispose. */
export interface ModelTensors {
  readonly version: number;
  readonly layers: ReadonlyArray<{ wIhT: tf.Tensor2D; wHhT: tf.Tensor2D; bIh: tf.Tensor1D; bHh: tf.Tensor1D }>;
  readonly head: { wT: tf.Tensor2D; b: tf.Tensor1D; activation: HeadActivation } | null;
}

const KEY = Symbol('seqstream.modelTensors');

/**
 * Tensor copies of `model`'s weights (transposed for `x @ W^T`), built on first use and rebuilt
 * when `model.version` changes. The model owns them (see `RecurrentModel.derived`): they are
 * disposed on the next rebuild or by `model.dispose()`, so many streams share one copy.
 *
 * @example
 * ```ts
 * await loadTfjs();
 * const weights = modelTensors(model);
 * const y = tf.tidy(() => headTensors(weights, hTop));
 * ```
 */
export function modelTensors(model: RecurrentModel): ModelTensors {
  return model.derived(KEY, build, free);
}

function build(model: RecurrentModel): ModelTensors {
  const tf = tfjs("A model's tensor weights");
  const G = model.cellDefinition.gates;
  const layers = model.layers.map((l) =>
    tf.tidy(() => ({
      wIhT: tf.keep(tf.transpose(tf.tensor2d(l.weightIh, [G * l.hiddenSize, l.inputSize]))),
      wHhT: tf.keep(tf.transpose(tf.tensor2d(l.weightHh, [G * l.hiddenSize, l.hiddenSize]))),
      bIh: tf.keep(tf.tensor1d(l.biasIh)),
      bHh: tf.keep(tf.tensor1d(l.biasHh)),
    })),
  );
  const hd = model.head;
  const head = hd
    ? tf.tidy(() => ({
        wT: tf.keep(tf.transpose(tf.tensor2d(hd.weight, [hd.outputSize, hd.inputSize]))),
        b: tf.keep(tf.tensor1d(hd.bias)),
        activation: hd.activation,
      }))
    : null;
  return { version: model.version, layers, head };
}

function free(weights: ModelTensors): void {
  const tf = tfjs("Freeing a model's tensor weights");
  for (const l of weights.layers) tf.dispose([l.wIhT, l.wHhT, l.bIh, l.bHh]);
  if (weights.head) tf.dispose([weights.head.wT, weights.head.b]);
}
