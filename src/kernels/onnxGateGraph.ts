import type { RecurrentModel } from '../cells/model.js';
import type { LayerWeights } from '../cells/types.js';
import { ProtoWriter } from '../cells/internal/protobufWire.js';
import { floatTensor, floatValueInfo, modelProto, onnxNode } from './internal/onnxProto.js';
import { STEP_GRAPH_OPSET, stepGraphNames } from './onnxGraph.js';

/**
 * Largest LSTM `hiddenSize` whose native steps use {@link lstmGateGraph} when the graph is left to
 * `'auto'`. Measured with `bench/nativeGraphs.ts` on a 2-core AVX-512 machine at 1,024 rows,
 * LSTM I=40, calls interleaved in one process (medians of per-call wall-clock ratios), gate graph
 * on one thread against onnxruntime's `LSTM` op on one and on two threads (one run): H=32 1.26x
 * and 1.18x faster; H=48 1.10x and 1.00x; H=64 1.06x and 0.87x; H=128 1.01x and 0.68x. Above 32
 * the op's gemm-bound work gains more from the second thread than the gate graph saves.
 *
 * @example
 * ```ts
 * GATE_GRAPH_MAX_HIDDEN; // 32
 * ```
 */
export const GATE_GRAPH_MAX_HIDDEN = 32;

/** PyTorch's LSTM gate blocks (`i, f, g, o`) and the activation each gets. */
const GATES = [
  { name: 'i', act: 'Sigmoid' },
  { name: 'f', act: 'Sigmoid' },
  { name: 'g', act: 'Tanh' },
  { name: 'o', act: 'Sigmoid' },
] as const;

/** Gate block `j` of `w` (`[4H, cols]`, PyTorch's row blocks) transposed to `[cols, H]`. */
function transposedGate(w: Float32Array, j: number, H: number, cols: number): Float32Array {
  const out = new Float32Array(cols * H);
  for (let r = 0; r < H; r++) {
    const row = (j * H + r) * cols;
    for (let c = 0; c < cols; c++) out[c * H + r] = w[row + c];
  }
  return out;
}

function summedBias(layer: LayerWeights, j: number, H: number): Float32Array {
  return Float32Array.from({ length: H }, (_, r) => layer.biasIh[j * H + r] + layer.biasHh[j * H + r]);
}

/**
 * One time step of an LSTM `model` as an ONNX graph of matrix products and elementwise gate
 * math, instead of onnxruntime's fused `LSTM` op (see `stepGraph`). Same input and output names
 * as `stepGraph` (`x`, `h{k}`, `c{k}` in; `h{k}_next`, `c{k}_next` out) but two-dimensional:
 * `[batch, I]` and `[batch, H]`. Per layer:
 *
 * 1. for each gate `i, f, g, o`: `pre = h·Rᵀ + (x·Wᵀ + b)`, two `Gemm`s with the gate's weights
 *    pre-transposed and `b = b_ih + b_hh`; then `Sigmoid` (`Tanh` for `g`);
 * 2. `c' = f·c + i·g`, `h' = o·tanh(c')` (`Mul`, `Mul`, `Add`, `Tanh`, `Mul`).
 *
 * One gemm pair per gate needs no `Split` (a copy of every pre-activation): 1.08x faster at H=32
 * and 1.11x at H=64 than one gemm pair over all gates plus two `Split`s, with the same numbers.
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
  model.layers.forEach((layer, k) => {
    const input = k === 0 ? n.x : n.hOut(k - 1);
    const v = (s: string): string => `${s}${k}`;
    GATES.forEach(({ name, act }, j) => {
      const gate = (s: string): string => v(`${s}_${name}`);
      graph.bytes(5, floatTensor(gate('Wt'), [layer.inputSize, H], transposedGate(layer.weightIh, j, H, layer.inputSize)));
      graph.bytes(5, floatTensor(gate('Rt'), [H, H], transposedGate(layer.weightHh, j, H, H)));
      graph.bytes(5, floatTensor(gate('b'), [H], summedBias(layer, j, H)));
      graph.bytes(1, onnxNode('Gemm', gate('gemm_x'), [input, gate('Wt'), gate('b')], [gate('x')]));
      graph.bytes(1, onnxNode('Gemm', gate('gemm_h'), [n.h(k), gate('Rt'), gate('x')], [gate('pre')]));
      graph.bytes(1, onnxNode(act, gate(act.toLowerCase()), [gate('pre')], [gate('gate')]));
    });
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
