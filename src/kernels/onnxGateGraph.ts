import type { RecurrentModel } from '../cells/model.js';
import type { LayerWeights } from '../cells/types.js';
import { ProtoWriter } from '../cells/internal/protobufWire.js';
import { attrInt, floatTensor, floatValueInfo, int64Tensor, modelProto, onnxNode } from './internal/onnxProto.js';
import { STEP_GRAPH_OPSET, stepGraphNames } from './onnxGraph.js';

/**
 * Largest LSTM `hiddenSize` whose native steps use {@link lstmGateGraph} when the graph is left to
 * `'auto'`. Measured on a 2-core AVX-512 machine at 1,024 rows, LSTM I=40, each graph in its own
 * process after 2,000 warm-up steps: at H=32 the gate graph on one onnxruntime thread stepped
 * 1.10-1.19x faster than onnxruntime's `LSTM` op on one or two threads; at H=64 they were level,
 * and at H=128 the `LSTM` op was faster (its gemm-bound work scales over both threads).
 *
 * @example
 * ```ts
 * GATE_GRAPH_MAX_HIDDEN; // 32
 * ```
 */
export const GATE_GRAPH_MAX_HIDDEN = 32;

/** PyTorch's LSTM gate blocks in the order the gate graph lays them out: sigmoid gates i, f, o, then g. */
const GATE_BLOCKS = [0, 1, 3, 2];

/** `w` (`[4H, cols]`, PyTorch's `ifgo` row blocks) transposed to `[cols, 4H]` with columns in `ifo|g` order. */
function transposedGates(w: Float32Array, H: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const G = GATE_BLOCKS.length;
  for (let j = 0; j < G; j++) {
    const src = GATE_BLOCKS[j] * H;
    for (let r = 0; r < H; r++) {
      const row = (src + r) * cols;
      for (let c = 0; c < cols; c++) out[c * G * H + j * H + r] = w[row + c];
    }
  }
  return out;
}

function summedBias(layer: LayerWeights, H: number): Float32Array {
  const b = new Float32Array(4 * H);
  GATE_BLOCKS.forEach((src, j) => {
    for (let r = 0; r < H; r++) b[j * H + r] = layer.biasIh[src * H + r] + layer.biasHh[src * H + r];
  });
  return b;
}

/**
 * One time step of an LSTM `model` as an ONNX graph of matrix products and elementwise gate
 * math, instead of onnxruntime's fused `LSTM` op (see `stepGraph`). Same input and output names
 * as `stepGraph` (`x`, `h{k}`, `c{k}` in; `h{k}_next`, `c{k}_next` out) but two-dimensional:
 * `[batch, I]` and `[batch, H]`. Per layer:
 *
 * 1. `g = h·Rᵀ + (x·Wᵀ + b)`: two `Gemm`s with the weights pre-transposed, gate columns ordered
 *    `i, f, o, g`, and `b = b_ih + b_hh`;
 * 2. `Split` into the three sigmoid gates and the tanh gate; `Sigmoid` on the first, `Tanh` on
 *    the second; `Split` the sigmoid part into `i`, `f`, `o`;
 * 3. `c' = f·c + i·g`, `h' = o·tanh(c')`.
 *
 * At small hidden sizes onnxruntime's `LSTM` kernel spends most of its time in per-row gate code;
 * here MLAS's gemm and its vectorized `Sigmoid`/`Tanh` do the work (see
 * {@link GATE_GRAPH_MAX_HIDDEN}). The sums run in a different order from PyTorch's (biases added
 * first), well within the `1e-5 + 1e-4 * |ref|` every engine is held to; each row's arithmetic
 * does not depend on its batch. Throws a `RangeError` for a model that is not an LSTM.
 *
 * @example
 * ```ts
 * const bytes = lstmGateGraph(lstmModel); // InferenceSession.create(bytes); feeds x: [B, I]
 * ```
 */
export function lstmGateGraph(model: RecurrentModel): Uint8Array {
  if (model.config.cell !== 'lstm') throw new RangeError(`lstmGateGraph: the gate graph is written for LSTM models, got '${model.config.cell}'`);
  const H = model.config.hiddenSize;
  const n = stepGraphNames;
  const graph = new ProtoWriter();
  graph.bytes(5, int64Tensor('split_sig_tanh', [3 * H, H]));
  graph.bytes(5, int64Tensor('split_ifo', [H, H, H]));
  const axis = [attrInt('axis', 1)];
  model.layers.forEach((layer, k) => {
    const input = k === 0 ? n.x : n.hOut(k - 1);
    const v = (s: string): string => `${s}${k}`;
    graph.bytes(5, floatTensor(v('Wt'), [layer.inputSize, 4 * H], transposedGates(layer.weightIh, H, layer.inputSize)));
    graph.bytes(5, floatTensor(v('Rt'), [H, 4 * H], transposedGates(layer.weightHh, H, H)));
    graph.bytes(5, floatTensor(v('b'), [4 * H], summedBias(layer, H)));
    graph.bytes(1, onnxNode('Gemm', v('gemm_x'), [input, v('Wt'), v('b')], [v('gx')]));
    graph.bytes(1, onnxNode('Gemm', v('gemm_h'), [n.h(k), v('Rt'), v('gx')], [v('g')]));
    graph.bytes(1, onnxNode('Split', v('split_g'), [v('g'), 'split_sig_tanh'], [v('pre_sig'), v('pre_tanh')], axis));
    graph.bytes(1, onnxNode('Sigmoid', v('sigmoid'), [v('pre_sig')], [v('sig')]));
    graph.bytes(1, onnxNode('Tanh', v('tanh_g'), [v('pre_tanh')], [v('gate_g')]));
    graph.bytes(1, onnxNode('Split', v('split_ifo'), [v('sig'), 'split_ifo'], [v('gate_i'), v('gate_f'), v('gate_o')], axis));
    graph.bytes(1, onnxNode('Mul', v('mul_fc'), [v('gate_f'), n.c(k)], [v('fc')]));
    graph.bytes(1, onnxNode('Mul', v('mul_ig'), [v('gate_i'), v('gate_g')], [v('ig')]));
    graph.bytes(1, onnxNode('Add', v('add_c'), [v('fc'), v('ig')], [n.cOut(k)]));
    graph.bytes(1, onnxNode('Tanh', v('tanh_c'), [n.cOut(k)], [v('tanh_c')]));
    graph.bytes(1, onnxNode('Mul', v('mul_h'), [v('gate_o'), v('tanh_c')], [n.hOut(k)]));
  });
  graph.string(2, 'seqstream_lstm_gates');
  graph.bytes(11, floatValueInfo(n.x, ['batch', model.config.inputSize]));
  model.layers.forEach((_l, k) => {
    graph.bytes(11, floatValueInfo(n.h(k), ['batch', H]));
    graph.bytes(11, floatValueInfo(n.c(k), ['batch', H]));
  });
  model.layers.forEach((_l, k) => {
    graph.bytes(12, floatValueInfo(n.hOut(k), ['batch', H]));
    graph.bytes(12, floatValueInfo(n.cOut(k), ['batch', H]));
  });
  return modelProto(graph.finish(), STEP_GRAPH_OPSET);
}
