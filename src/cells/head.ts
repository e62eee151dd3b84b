import type { HeadWeights } from './types.js';

/**
 * Fused output head for `batch` rows: `y = g(W h + b)` with g identity, sigmoid or softmax,
 * like PyTorch's `nn.Linear` (plus activation) applied to an RNN's output. Writes into `y`.
 *
 * @example
 * ```ts
 * const y = new Float32Array(model.head!.outputSize);
 * applyHead(model.head!, state.h[state.h.length - 1], 0, y, 0, 1);
 * ```
 */
export function applyHead(
  head: HeadWeights,
  h: Float32Array,
  hOffset: number,
  y: Float32Array,
  yOffset: number,
  batch: number,
): void {
  const H = head.inputSize;
  const O = head.outputSize;
  const { weight, bias, activation } = head;
  for (let b = 0; b < batch; b++) {
    const ho = hOffset + b * H;
    const yo = yOffset + b * O;
    let max = -Infinity;
    for (let r = 0; r < O; r++) {
      let s = bias[r];
      const o = r * H;
      for (let k = 0; k < H; k++) s += weight[o + k] * h[ho + k];
      y[yo + r] = s;
      if (s > max) max = s;
    }
    if (activation === 'sigmoid') {
      for (let r = 0; r < O; r++) {
        const v = y[yo + r];
        y[yo + r] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      }
    } else if (activation === 'softmax') {
      let sum = 0;
      for (let r = 0; r < O; r++) sum += Math.exp(y[yo + r] - max);
      for (let r = 0; r < O; r++) y[yo + r] = Math.exp(y[yo + r] - max) / sum;
    }
  }
}
