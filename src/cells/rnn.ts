import type { CellDefinition } from './cellDefinition.js';

/**
 * The Elman RNN cell, PyTorch `nn.RNN`: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`,
 * or `max(0, ...)` with `nonlinearity: 'relu'`.
 *
 * @example
 * ```ts
 * import { rnn, RecurrentModel } from 'seqstream/cells';
 * rnn('relu').kind; // 'rnn_relu'
 * const model = RecurrentModel.create({ cell: 'rnn_relu', inputSize: 3, hiddenSize: 8 });
 * ```
 */
export function rnn(nonlinearity: 'tanh' | 'relu' = 'tanh'): CellDefinition {
  return nonlinearity === 'tanh' ? rnnTanh : rnnRelu;
}

const rnnTanh: CellDefinition = {
  kind: 'rnn_tanh',
  gates: 1,
  hasCellState: false,
  combine(gi, gh, h, _c, off, H) {
    for (let j = 0; j < H; j++) h[off + j] = Math.tanh(gi[j] + gh[j]);
  },
};

const rnnRelu: CellDefinition = {
  kind: 'rnn_relu',
  gates: 1,
  hasCellState: false,
  combine(gi, gh, h, _c, off, H) {
    for (let j = 0; j < H; j++) {
      const v = gi[j] + gh[j];
      h[off + j] = v > 0 ? v : 0;
    }
  },
};
