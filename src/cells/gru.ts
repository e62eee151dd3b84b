import { sigmoid, type CellDefinition } from './cellDefinition.js';

/**
 * The GRU cell, PyTorch `nn.GRU` (gate order r, z, n; both biases):
 * `n = tanh(W_in x + b_in + r*(W_hn h + b_hn))`, `h' = (1-z)*n + z*h`.
 * `r` multiplies after the matrix product and includes `b_hn`, as PyTorch does.
 *
 * @example
 * ```ts
 * import { gru, RecurrentModel } from 'seqstream/cells';
 * gru.gates; // 3
 * const model = RecurrentModel.create({ cell: 'gru', inputSize: 4, hiddenSize: 16 });
 * ```
 */
export const gru: CellDefinition = {
  kind: 'gru',
  gates: 3,
  hasCellState: false,
  combine(gi, gh, h, _c, off, H) {
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gi[j] + gh[j]);
      const z = sigmoid(gi[H + j] + gh[H + j]);
      const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      h[off + j] = (1 - z) * n + z * h[off + j];
    }
  },
};
