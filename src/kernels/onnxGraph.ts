import type { RecurrentModel } from '../cells/model.js';
import type { CellKind } from '../cells/types.js';
import { ProtoWriter } from '../cells/internal/protobufWire.js';
import { onnxLayerWeights } from '../cells/onnxGateOrder.js';
import { attrInt, attrStrings, floatTensor, floatValueInfo, modelProto, onnxNode } from './internal/onnxProto.js';

/**
 * ONNX opset the step graph is written for (LSTM/GRU/RNN as of opset 14).
 *
 * @example
 * ```ts
 * STEP_GRAPH_OPSET; // 14
 * ```
 */
export const STEP_GRAPH_OPSET = 14;

/** ONNX operator of each cell kind. */
const OP: Record<CellKind, string> = { rnn_tanh: 'RNN', rnn_relu: 'RNN', lstm: 'LSTM', gru: 'GRU' };

/**
 * Names of the step graph's inputs and outputs for layer `k`.
 *
 * @example
 * ```ts
 * feeds[stepGraphNames.h(0)] = tensorOverH0;
 * ```
 */
export const stepGraphNames = {
  x: 'x',
  h: (k: number) => `h${k}`,
  c: (k: number) => `c${k}`,
  hOut: (k: number) => `h${k}_next`,
  cOut: (k: number) => `c${k}_next`,
};

/**
 * One time step of `model`'s layers as an ONNX model (serialized `ModelProto`): inputs `x`
 * `[1, batch, I]` and each layer's `h{k}` (and `c{k}` for LSTM) `[1, batch, H]`; outputs
 * `h{k}_next` (and `c{k}_next`). One ONNX `LSTM`/`GRU`/`RNN` node per layer, forward direction,
 * `seq_length` 1, weights as initializers in ONNX gate order with both biases (`GRU` with
 * `linear_before_reset=1`, which is PyTorch's formula). The head is not in the graph: callers apply
 * it to the top `h` (it is a few percent of the work). `batch` is a symbolic dimension.
 *
 * @example
 * ```ts
 * const bytes = stepGraph(model); // feed to onnxruntime: InferenceSession.create(bytes)
 * ```
 */
export function stepGraph(model: RecurrentModel): Uint8Array {
  const kind = model.config.cell;
  const H = model.config.hiddenSize;
  const G = model.cellDefinition.gates;
  const hasC = model.cellDefinition.hasCellState;
  const n = stepGraphNames;
  const graph = new ProtoWriter();
  model.layers.forEach((layer, k) => {
    const { W, R, B } = onnxLayerWeights(kind, layer);
    const input = k === 0 ? n.x : n.hOut(k - 1);
    const attrs = [attrInt('hidden_size', H)];
    if (kind === 'gru') attrs.push(attrInt('linear_before_reset', 1));
    if (kind === 'rnn_relu') attrs.push(attrStrings('activations', ['Relu']));
    if (kind === 'rnn_tanh') attrs.push(attrStrings('activations', ['Tanh']));
    const inputs = [input, `W${k}`, `R${k}`, `B${k}`, '', n.h(k)];
    if (hasC) inputs.push(n.c(k));
    const outputs = ['', n.hOut(k)];
    if (hasC) outputs.push(n.cOut(k));
    graph.bytes(1, onnxNode(OP[kind], `${OP[kind].toLowerCase()}${k}`, inputs, outputs, attrs));
    graph.bytes(5, floatTensor(`W${k}`, [1, G * H, layer.inputSize], W));
    graph.bytes(5, floatTensor(`R${k}`, [1, G * H, H], R));
    graph.bytes(5, floatTensor(`B${k}`, [1, 2 * G * H], B));
  });
  graph.string(2, 'seqstream_step');
  graph.bytes(11, floatValueInfo(n.x, [1, 'batch', model.config.inputSize]));
  model.layers.forEach((_l, k) => {
    graph.bytes(11, floatValueInfo(n.h(k), [1, 'batch', H]));
    if (hasC) graph.bytes(11, floatValueInfo(n.c(k), [1, 'batch', H]));
  });
  model.layers.forEach((_l, k) => {
    graph.bytes(12, floatValueInfo(n.hOut(k), [1, 'batch', H]));
    if (hasC) graph.bytes(12, floatValueInfo(n.cOut(k), [1, 'batch', H]));
  });
  return modelProto(graph.finish(), STEP_GRAPH_OPSET);
}
