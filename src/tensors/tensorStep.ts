import type * as tf from '@tensorflow/tfjs';
import type { CellDefinition } from '../cells/cellDefinition.js';
import { combineTensors } from './cellTensors.js';
import type { ModelTensors } from './modelTensors.js';
import { tfjs } from './tfjsRuntime.js';

/** Per-layer state tensors of the tfjs path, `[B, H]` each. */
export interface TensorState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[] | null;
}

/**
 * One step of every layer with tfjs ops: `x` is `[B, I]`. Returns the new state and the top `h`;
 * the caller owns the returned tensors (wrap calls in `tf.tidy` and keep what you carry).
 *
 * @example
 * ```ts
 * const next = tf.tidy(() => stepTensors(model.cellDefinition, modelTensors(model), x, state));
 * ```
 */
export function stepTensors(cell: CellDefinition, weights: ModelTensors, x: tf.Tensor2D, state: TensorState): TensorState {
  const tf = tfjs('stepTensors');
  const h: tf.Tensor2D[] = [];
  const c: tf.Tensor2D[] | null = state.c ? [] : null;
  let input = x;
  weights.layers.forEach((w, k) => {
    const gi = tf.add(tf.matMul(input, w.wIhT), w.bIh) as tf.Tensor2D;
    const gh = tf.add(tf.matMul(state.h[k], w.wHhT), w.bHh) as tf.Tensor2D;
    const next = combineTensors(cell.kind, gi, gh, state.h[k], state.c ? state.c[k] : null);
    h.push(next.h);
    if (c && next.c) c.push(next.c);
    input = next.h;
  });
  return { h, c };
}

/**
 * Head output with tfjs ops for `h` of shape `[B, H]`.
 *
 * @example
 * ```ts
 * const y = tf.tidy(() => headTensors(modelTensors(model), hTop));
 * ```
 */
export function headTensors(weights: ModelTensors, h: tf.Tensor2D): tf.Tensor2D {
  const head = weights.head;
  if (!head) return h;
  const tf = tfjs('headTensors');
  const z = tf.add(tf.matMul(h, head.wT), head.b) as tf.Tensor2D;
  if (head.activation === 'sigmoid') return tf.sigmoid(z);
  if (head.activation === 'softmax') return tf.softmax(z);
  return z;
}
