import type { HeadActivation } from '../cells/types.js';

/**
 * Training losses, each computed on the head's pre-activation `z` (for numerical stability) with
 * PyTorch's `reduction='mean'`:
 * - `'mse'`: `mean((y - t)^2)` over every element, `y = g(z)` the head output (any activation).
 * - `'cross_entropy'`: `-sum_o t_o log softmax(z)_o`, mean over rows; the head is `softmax` or
 *   `identity` (then `z` are logits, as in `nn.CrossEntropyLoss`). Targets are class
 *   probabilities (one-hot for a class index).
 * - `'binary_cross_entropy'`: `-(t log s + (1-t) log(1-s))`, `s = sigmoid(z)`, mean over every
 *   element; the head is `sigmoid` or `identity` (logits, as in `nn.BCEWithLogitsLoss`).
 */
export type LossKind = 'mse' | 'cross_entropy' | 'binary_cross_entropy';

/**
 * Head activations each loss accepts.
 *
 * @example
 * ```ts
 * LOSS_HEADS.cross_entropy.includes('sigmoid'); // false
 * ```
 */
export const LOSS_HEADS: Readonly<Record<LossKind, readonly HeadActivation[]>> = {
  mse: ['identity', 'sigmoid', 'softmax'],
  cross_entropy: ['softmax', 'identity'],
  binary_cross_entropy: ['sigmoid', 'identity'],
};

/**
 * Number of terms a loss averages over for `rows` rows of `outputs` values (the `mean` divisor).
 *
 * @example
 * ```ts
 * lossDivisor('mse', 4, 2); // 8 (every element); lossDivisor('cross_entropy', 4, 2) is 4 (rows)
 * ```
 */
export function lossDivisor(loss: LossKind, rows: number, outputs: number): number {
  return loss === 'cross_entropy' ? rows : rows * outputs;
}

/**
 * Sum (not mean) of one row's loss terms, and the gradient of that sum with respect to the
 * pre-activation `z`, scaled by `scale` (pass `1 / lossDivisor(...)` to get the mean's gradient),
 * added into `dz` at `dzOff` (default `off`). `y` is the head output `g(z)`; `z` and `y` may be the same array when the head
 * is `identity`. Pass `dz = null` to compute the loss only.
 *
 * @example
 * ```ts
 * const z = Float64Array.of(0.5), y = z, t = Float64Array.of(1), dz = new Float64Array(1);
 * lossRow('mse', 'identity', z, y, t, 0, 1, 1, dz); // 0.25, dz = [-1]
 * ```
 */
export function lossRow(
  loss: LossKind,
  activation: HeadActivation,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  t: ArrayLike<number>,
  off: number,
  O: number,
  scale: number,
  dz: Float64Array | null,
  dzOff = off,
): number {
  let sum = 0;
  if (loss === 'mse') {
    for (let o = 0; o < O; o++) {
      const d = y[off + o] - t[off + o];
      sum += d * d;
    }
    if (!dz) return sum;
    if (activation === 'identity') {
      for (let o = 0; o < O; o++) dz[dzOff + o] += 2 * scale * (y[off + o] - t[off + o]);
    } else if (activation === 'sigmoid') {
      for (let o = 0; o < O; o++) {
        const s = y[off + o];
        dz[dzOff + o] += 2 * scale * (s - t[off + o]) * s * (1 - s);
      }
    } else {
      // softmax Jacobian: dz_o = y_o * (dy_o - sum_k dy_k y_k)
      let dot = 0;
      for (let o = 0; o < O; o++) dot += 2 * (y[off + o] - t[off + o]) * y[off + o];
      for (let o = 0; o < O; o++) dz[dzOff + o] += scale * y[off + o] * (2 * (y[off + o] - t[off + o]) - dot);
    }
    return sum;
  }
  if (loss === 'cross_entropy') {
    // log softmax(z) = z - max - log(sum exp(z - max)), stable for any logits.
    let max = -Infinity;
    for (let o = 0; o < O; o++) if (z[off + o] > max) max = z[off + o];
    let se = 0;
    for (let o = 0; o < O; o++) se += Math.exp(z[off + o] - max);
    const lse = max + Math.log(se);
    let tSum = 0;
    for (let o = 0; o < O; o++) {
      sum -= t[off + o] * (z[off + o] - lse);
      tSum += t[off + o];
    }
    if (dz) for (let o = 0; o < O; o++) dz[dzOff + o] += scale * (Math.exp(z[off + o] - lse) * tSum - t[off + o]);
    return sum;
  }
  // binary cross-entropy with logits: max(z,0) - z t + log(1 + exp(-|z|))
  for (let o = 0; o < O; o++) {
    const v = z[off + o];
    const tt = t[off + o];
    sum += (v > 0 ? v : 0) - v * tt + Math.log1p(Math.exp(-Math.abs(v)));
    if (dz) {
      const s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      dz[dzOff + o] += scale * (s - tt);
    }
  }
  return sum;
}

/**
 * Loss of one prediction `y` (the head's output) against `t`, for reporting (no gradient).
 * Identity heads pass logits for cross-entropy and binary cross-entropy; probabilities are
 * clamped so that `log` stays >= -100, as PyTorch's `BCELoss` does.
 *
 * @example
 * ```ts
 * outputLoss('mse', 'identity', [0.5], [1]); // 0.25
 * ```
 */
export function outputLoss(loss: LossKind, activation: HeadActivation, y: ArrayLike<number>, t: ArrayLike<number>): number {
  const O = t.length;
  if (loss === 'mse' || activation === 'identity') return lossRow(loss, activation, y, y, t, 0, O, 1, null) / lossDivisor(loss, 1, O);
  const log = (v: number) => Math.max(Math.log(v), -100);
  let sum = 0;
  if (loss === 'cross_entropy') for (let o = 0; o < O; o++) sum -= t[o] * log(y[o]);
  else for (let o = 0; o < O; o++) sum -= t[o] * log(y[o]) + (1 - t[o]) * log(1 - y[o]);
  return sum / lossDivisor(loss, 1, O);
}
