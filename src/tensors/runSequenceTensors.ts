import type * as tf from '@tensorflow/tfjs';
import type { RecurrentModel } from '../cells/model.js';
import type { SequenceResult } from '../cells/runSequence.js';
import { modelTensors } from './modelTensors.js';
import { headTensors, stepTensors, type TensorState } from './tensorStep.js';
import { tfjs } from './tfjsRuntime.js';

/**
 * The tfjs path of `runSequence` (`engine: 'tfjs'`): every step with tfjs ops inside one
 * `tf.tidy`, so only the model's cached weight tensors outlive the call. `h0`/`c0` are flat
 * `[B*H]` per layer; `x` is already validated as `[B, T, I]`.
 *
 * @example
 * ```ts
 * await loadTfjs();
 * const r = runSequenceTensors(model, [[[0.1, 0.2, 0.3]]], [new Float32Array(model.config.hiddenSize)], null);
 * ```
 */
export function runSequenceTensors(model: RecurrentModel, x: number[][][], h0: Float32Array[], c0: Float32Array[] | null): SequenceResult {
  const tf = tfjs("runSequence engine 'tfjs'");
  const { hiddenSize: H } = model.config;
  const B = x.length;
  let result: SequenceResult | undefined;
  // Everything but the model's cached weights is freed when the scope ends.
  tf.tidy(() => {
    const weights = modelTensors(model);
    const xs = tf.tensor3d(x); // [B, T, I]
    const T = xs.shape[1];
    let state: TensorState = {
      h: h0.map((a) => tf.tensor2d(a, [B, H])),
      c: c0 ? c0.map((a) => tf.tensor2d(a, [B, H])) : null,
    };
    const outs: tf.Tensor2D[] = [];
    const ys: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      const xt = tf.squeeze(tf.slice(xs, [0, t, 0], [B, 1, -1]), [1]) as tf.Tensor2D;
      state = stepTensors(model.cellDefinition, weights, xt, state);
      const top = state.h[state.h.length - 1];
      outs.push(top);
      if (weights.head) ys.push(headTensors(weights, top));
    }
    const toNested = (ts: tf.Tensor2D[]) => (ts.length ? (tf.stack(ts, 1).arraySync() as number[][][]) : Array.from({ length: B }, () => []));
    const r: SequenceResult = {
      output: toNested(outs),
      hN: state.h.map((h) => h.arraySync()),
    };
    if (weights.head) r.y = toNested(ys);
    if (state.c) r.cN = state.c.map((c) => c.arraySync());
    result = r;
  });
  return result as SequenceResult;
}
