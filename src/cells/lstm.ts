import { sigmoid, type CellDefinition } from './cellDefinition.js';

/**
 * The LSTM cell, PyTorch `nn.LSTM` (gate order i, f, g, o; both biases):
 * `c' = f*c + i*g`, `h' = o*tanh(c')`.
 *
 * @example
 * ```ts
 * import { lstm, RecurrentModel } from 'seqstream/cells';
 * lstm.gates; // 4
 * const model = RecurrentModel.create({ cell: 'lstm', inputSize: 40, hiddenSize: 32, seed: 1 });
 * ```
 */
export const lstm: CellDefinition = {
  kind: 'lstm',
  gates: 4,
  hasCellState: true,
  combine(gi, gh, h, c, off, H) {
    const cs = c as Float32Array;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(gi[j] + gh[j]);
      const f = sigmoid(gi[H + j] + gh[H + j]);
      const g = Math.tanh(gi[2 * H + j] + gh[2 * H + j]);
      const o = sigmoid(gi[3 * H + j] + gh[3 * H + j]);
      const cNew = f * cs[off + j] + i * g;
      cs[off + j] = cNew;
      h[off + j] = o * Math.tanh(cNew);
    }
  },
};
