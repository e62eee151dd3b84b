/** The recurrent cell kinds, named like PyTorch's modes (`RNN_TANH`, `RNN_RELU`, `LSTM`, `GRU`). */
export type CellKind = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

/** Output head nonlinearity: `y = g(W h + b)`. */
export type HeadActivation = 'identity' | 'sigmoid' | 'softmax';

/**
 * One layer's parameters in PyTorch's layout, row-major, float32.
 * `weightIh` is `[G*H, inputSize]`, `weightHh` is `[G*H, H]`, both biases `[G*H]`;
 * rows come in gate blocks (LSTM i,f,g,o; GRU r,z,n).
 */
export interface LayerWeights {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly weightIh: Float32Array;
  readonly weightHh: Float32Array;
  readonly biasIh: Float32Array;
  readonly biasHh: Float32Array;
}

/** Output head parameters, like PyTorch's `nn.Linear(H, outputSize)`: `weight` is `[outputSize, H]`. */
export interface HeadWeights {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly activation: HeadActivation;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/**
 * Hidden state of a stack of layers for `batch` independent rows.
 * `h[k]` (and `c[k]` for LSTM) is layer k's state, `[batch, H]` row-major.
 */
export interface ModelState {
  readonly batch: number;
  readonly h: Float32Array[];
  readonly c: Float32Array[] | null;
}
