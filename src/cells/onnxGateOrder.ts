import type { CellKind, LayerWeights } from './types.js';

/**
 * Order in which PyTorch's gate blocks appear in ONNX's: LSTM is `i,f,g,o` in PyTorch and `i,o,f,c`
 * in ONNX; GRU is `r,z,n` in PyTorch and `z,r,h` in ONNX. `ONNX block j = PyTorch block ORDER[j]`.
 *
 * @example
 * ```ts
 * ONNX_GATE_ORDER.lstm; // [0, 3, 1, 2]: ONNX's o block is PyTorch's block 3
 * ```
 */
export const ONNX_GATE_ORDER: Record<CellKind, readonly number[]> = {
  rnn_tanh: [0],
  rnn_relu: [0],
  lstm: [0, 3, 1, 2],
  gru: [1, 0, 2],
};

/**
 * Reorders `G` row blocks of `rows x cols` each (`H` rows per block) from PyTorch's gate order to
 * ONNX's. Returns a new array; `data` is `[G*H, cols]` row-major.
 *
 * @example
 * ```ts
 * const W = toOnnxGateOrder('lstm', layer.weightIh, H, layer.inputSize);
 * ```
 */
export function toOnnxGateOrder(kind: CellKind, data: Float32Array, H: number, cols: number): Float32Array {
  const order = ONNX_GATE_ORDER[kind];
  const block = H * cols;
  const out = new Float32Array(data.length);
  order.forEach((src, j) => out.set(data.subarray(src * block, (src + 1) * block), j * block));
  return out;
}

/**
 * The inverse of {@link toOnnxGateOrder}: ONNX gate blocks back to PyTorch's order.
 *
 * @example
 * ```ts
 * const weightIh = fromOnnxGateOrder('gru', onnxW, H, inputSize);
 * ```
 */
export function fromOnnxGateOrder(kind: CellKind, data: Float32Array, H: number, cols: number): Float32Array {
  const order = ONNX_GATE_ORDER[kind];
  const block = H * cols;
  const out = new Float32Array(data.length);
  order.forEach((src, j) => out.set(data.subarray(j * block, (j + 1) * block), src * block));
  return out;
}

/**
 * ONNX `W`, `R`, `B` of one layer (gate order converted, both biases concatenated).
 *
 * @example
 * ```ts
 * const { W, R, B } = onnxLayerWeights('lstm', model.layers[0]);
 * ```
 */
export function onnxLayerWeights(kind: CellKind, layer: LayerWeights): { W: Float32Array; R: Float32Array; B: Float32Array } {
  const H = layer.hiddenSize;
  const B = new Float32Array(layer.biasIh.length * 2);
  B.set(toOnnxGateOrder(kind, layer.biasIh, H, 1), 0);
  B.set(toOnnxGateOrder(kind, layer.biasHh, H, 1), layer.biasIh.length);
  return {
    W: toOnnxGateOrder(kind, layer.weightIh, H, layer.inputSize),
    R: toOnnxGateOrder(kind, layer.weightHh, H, H),
    B,
  };
}
