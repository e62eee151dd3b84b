import { ModelFormatError } from '../errors.js';
import { fieldString, readFields, repeatedVarints, type ProtoField } from './internal/protobufWire.js';
import { fromOnnxGateOrder } from './onnxGateOrder.js';
import { RecurrentModel } from './model.js';
import type { CellKind, HeadActivation } from './types.js';

/** One ONNX node, decoded. */
interface OnnxNode {
  readonly name: string;
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, ProtoField[]>;
}

/** Ops that only move or reshape tensors around the recurrent nodes (what `torch.onnx.export` adds). */
const PLUMBING = new Set(['Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'Concat', 'Constant', 'Identity', 'Shape', 'Gather', 'Reshape', 'Cast', 'ConstantOfShape', 'Expand', 'Flatten']);
const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);
const FLOAT = 1;

function formatError(message: string, details: Record<string, unknown> = {}): ModelFormatError {
  return new ModelFormatError('SEQ_ONNX_FORMAT', message, details);
}

function unsupported(node: OnnxNode, why: string): ModelFormatError {
  return new ModelFormatError('SEQ_ONNX_UNSUPPORTED', `ONNX node '${node.name}' (${node.op}) cannot be mapped to a seqstream model: ${why}`, { node: node.name, op: node.op });
}

function decodeNode(bytes: Uint8Array, index: number): OnnxNode {
  const f = readFields(bytes);
  const attrs = new Map<string, ProtoField[]>();
  for (const a of f.filter((x) => x.field === 5)) {
    const af = readFields(a.bytes);
    const name = af.find((x) => x.field === 1);
    if (name) attrs.set(fieldString(name), af);
  }
  const op = f.find((x) => x.field === 4);
  const name = f.find((x) => x.field === 3);
  const domain = f.find((x) => x.field === 7);
  return {
    op: op ? fieldString(op) : '',
    name: name && name.bytes.length ? fieldString(name) : `#${index}`,
    domain: domain ? fieldString(domain) : '',
    inputs: f.filter((x) => x.field === 1).map(fieldString),
    outputs: f.filter((x) => x.field === 2).map(fieldString),
    attrs,
  };
}

/** A float32 tensor from a `TensorProto` (raw_data or float_data). */
function decodeTensor(bytes: Uint8Array): { name: string; dims: number[]; data: Float32Array | null } {
  const f = readFields(bytes);
  const nameField = f.find((x) => x.field === 8);
  const name = nameField ? fieldString(nameField) : '';
  const dims = repeatedVarints(f, 1);
  const type = f.find((x) => x.field === 2)?.num ?? 0;
  if (type !== FLOAT) return { name, dims, data: null };
  if (f.some((x) => x.field === 14 && x.num === 1)) throw formatError(`Tensor '${name}' keeps its data in an external file; export with the weights inside the .onnx file`, { tensor: name });
  const size = dims.reduce((a, b) => a * b, 1);
  const raw = f.find((x) => x.field === 9);
  let data: Float32Array;
  if (raw) {
    if (raw.bytes.length !== size * 4) throw formatError(`Tensor '${name}' has ${raw.bytes.length} bytes of data for shape [${dims}]`, { tensor: name });
    data = new Float32Array(size);
    new Uint8Array(data.buffer).set(raw.bytes);
  } else {
    const values: number[] = [];
    for (const x of f.filter((y) => y.field === 4)) {
      if (x.wire === 5) values.push(x.num);
      else {
        const v = new DataView(x.bytes.buffer, x.bytes.byteOffset, x.bytes.byteLength);
        for (let i = 0; i + 4 <= x.bytes.length; i += 4) values.push(v.getFloat32(i, true));
      }
    }
    if (values.length !== size) throw formatError(`Tensor '${name}' has ${values.length} values for shape [${dims}]`, { tensor: name });
    data = Float32Array.from(values);
  }
  return { name, dims, data };
}

function attrInt(node: OnnxNode, name: string): number | undefined {
  return node.attrs.get(name)?.find((x) => x.field === 3)?.num;
}

function attrStrings(node: OnnxNode, name: string): string[] | undefined {
  const a = node.attrs.get(name);
  return a ? a.filter((x) => x.field === 9).map(fieldString) : undefined;
}

/** The model's recurrent cell, from one recurrent node's op and attributes (refusing what PyTorch cells cannot do). */
function cellOf(node: OnnxNode): CellKind {
  const direction = node.attrs.get('direction')?.find((x) => x.field === 4);
  if (direction && fieldString(direction) !== 'forward') throw unsupported(node, `direction '${fieldString(direction)}' (only forward layers map to seqstream cells)`);
  if (node.attrs.has('clip')) throw unsupported(node, 'cell clipping (clip) has no PyTorch equivalent');
  if (node.op === 'LSTM' && attrInt(node, 'input_forget') === 1) throw unsupported(node, 'input_forget=1 (coupled input and forget gates)');
  if (node.op === 'LSTM' && node.inputs[7]) throw unsupported(node, 'peephole weights (input P)');
  if (node.inputs[4]) throw unsupported(node, 'sequence_lens (variable-length batches); export with fixed-length sequences');
  const acts = attrStrings(node, 'activations')?.map((a) => a.toLowerCase());
  const expectActs = (want: string[]): void => {
    if (acts && acts.join() !== want.join()) throw unsupported(node, `activations [${acts}] (PyTorch's ${node.op} uses [${want}])`);
  };
  if (node.op === 'LSTM') {
    expectActs(['sigmoid', 'tanh', 'tanh']);
    return 'lstm';
  }
  if (node.op === 'GRU') {
    expectActs(['sigmoid', 'tanh']);
    if (attrInt(node, 'linear_before_reset') !== 1) throw unsupported(node, "linear_before_reset=0 (PyTorch's GRU applies the reset gate after the recurrent product: linear_before_reset=1)");
    return 'gru';
  }
  if (!acts || acts.join() === 'tanh') return 'rnn_tanh';
  if (acts.join() === 'relu') return 'rnn_relu';
  throw unsupported(node, `activations [${acts}] (PyTorch's RNN is tanh or relu)`);
}

/**
 * Loads an ONNX file exported by `torch.onnx.export` from an `nn.LSTM`, `nn.GRU` or `nn.RNN`
 * (forward, any number of layers, `batch_first` or not) optionally followed by an `nn.Linear`
 * head and a sigmoid or softmax, into a {@link RecurrentModel} with the same weights.
 *
 * Algorithm:
 * 1. Decode the `ModelProto`, its graph's initializers and `Constant` nodes (float32 tensors).
 * 2. Walk the nodes in order: each `LSTM`/`GRU`/`RNN` node is the next layer; its `W`, `R`, `B`
 *    (ONNX gate order `iofc` / `zrh`, both biases in `B`) are converted to PyTorch's
 *    `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` (`ifgo` / `rzn`).
 * 3. After the last layer, a `MatMul` (+ `Add`) or `Gemm` with constant weights is the head; a
 *    following `Sigmoid` or `Softmax` is its activation.
 * 4. Ops that only move tensors (`Transpose`, `Squeeze`, `Slice`, `Concat`, ...) are skipped; any
 *    other node, a reverse or bidirectional layer, clipping, peepholes, `sequence_lens` or GRU
 *    `linear_before_reset=0` throw `SEQ_ONNX_UNSUPPORTED` naming the node. Bytes that are not an
 *    ONNX model throw `SEQ_ONNX_FORMAT`.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { loadOnnx } from 'seqstream/cells';
 * const model = loadOnnx(readFileSync('lstm.onnx')); // torch.onnx.export(nn.LSTM(...) + nn.Linear)
 * ```
 */
export function loadOnnx(bytes: Uint8Array): RecurrentModel {
  if (!(bytes instanceof Uint8Array)) throw formatError('loadOnnx takes the bytes of an .onnx file (a Uint8Array or Buffer)');
  let graphFields: ProtoField[];
  let nodes: OnnxNode[];
  const constants = new Map<string, { dims: number[]; data: Float32Array }>();
  try {
    const model = readFields(bytes);
    const graph = model.find((f) => f.field === 7 && f.wire === 2);
    if (!graph || !model.some((f) => f.field === 1)) throw formatError('Not an ONNX model: no ir_version or graph');
    graphFields = readFields(graph.bytes);
    nodes = graphFields.filter((f) => f.field === 1).map((f, i) => decodeNode(f.bytes, i));
    for (const f of graphFields.filter((x) => x.field === 5)) {
      const t = decodeTensor(f.bytes);
      if (t.data) constants.set(t.name, { dims: t.dims, data: t.data });
    }
    for (const n of nodes) {
      if (n.op !== 'Constant') continue;
      const t = n.attrs.get('value')?.find((x) => x.field === 5);
      if (t && n.outputs[0]) {
        const d = decodeTensor(t.bytes);
        if (d.data) constants.set(n.outputs[0], { dims: d.dims, data: d.data });
      }
    }
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw formatError(`Not a readable ONNX model: ${(e as Error).message}`);
  }

  const params: Record<string, { data: Float32Array; shape: number[] }> = {};
  let cell: CellKind | undefined;
  let H = 0;
  let inputSize = 0;
  let layers = 0;
  let head: { outputSize: number; activation: HeadActivation } | null = null;
  let pendingHead: { node: OnnxNode; weight: Float32Array; O: number; out: string } | null = null;

  const constant = (node: OnnxNode, name: string, what: string) => {
    const c = constants.get(name);
    if (!c) throw unsupported(node, `its ${what} '${name}' is not a constant float32 tensor of the file`);
    return c;
  };

  for (const node of nodes) {
    if (node.domain !== '' && node.domain !== 'ai.onnx') throw unsupported(node, `operator domain '${node.domain}'`);
    if (RECURRENT.has(node.op)) {
      if (head || pendingHead) throw unsupported(node, 'a recurrent layer after the head');
      const kind = cellOf(node);
      if (cell && kind !== cell) throw unsupported(node, `a ${kind} layer in a ${cell} stack (all layers must be one kind)`);
      cell = kind;
      const h = attrInt(node, 'hidden_size');
      const W = constant(node, node.inputs[1], 'input weight W');
      const R = constant(node, node.inputs[2], 'recurrent weight R');
      const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
      if (W.dims.length !== 3 || W.dims[0] !== 1 || W.dims[1] % G !== 0) throw unsupported(node, `W has shape [${W.dims}], expected [1, ${G}*hidden, input]`);
      const hidden = W.dims[1] / G;
      if (h !== undefined && h !== hidden) throw unsupported(node, `hidden_size ${h} disagrees with W's shape [${W.dims}]`);
      if (layers > 0 && hidden !== H) throw unsupported(node, `hidden size ${hidden} differs from the first layer's ${H}`);
      if (layers > 0 && W.dims[2] !== H) throw unsupported(node, `layer ${layers} reads ${W.dims[2]} inputs, expected the previous layer's ${H}`);
      if (R.dims.join() !== [1, G * hidden, hidden].join()) throw unsupported(node, `R has shape [${R.dims}], expected [1, ${G * hidden}, ${hidden}]`);
      H = hidden;
      if (layers === 0) inputSize = W.dims[2];
      const I = W.dims[2];
      const B = node.inputs[3] ? constant(node, node.inputs[3], 'bias B') : { dims: [1, 2 * G * H], data: new Float32Array(2 * G * H) };
      if (B.dims.join() !== [1, 2 * G * H].join()) throw unsupported(node, `B has shape [${B.dims}], expected [1, ${2 * G * H}]`);
      const k = layers++;
      params[`weight_ih_l${k}`] = { data: fromOnnxGateOrder(kind, W.data, H, I), shape: [G * H, I] };
      params[`weight_hh_l${k}`] = { data: fromOnnxGateOrder(kind, R.data, H, H), shape: [G * H, H] };
      params[`bias_ih_l${k}`] = { data: fromOnnxGateOrder(kind, B.data.subarray(0, G * H), H, 1), shape: [G * H] };
      params[`bias_hh_l${k}`] = { data: fromOnnxGateOrder(kind, B.data.subarray(G * H), H, 1), shape: [G * H] };
      continue;
    }
    if (PLUMBING.has(node.op)) continue;
    if (!cell) throw unsupported(node, 'an operation before the first recurrent layer');
    if ((node.op === 'MatMul' || node.op === 'Gemm') && !head && !pendingHead) {
      const wName = node.inputs.find((n) => constants.has(n));
      if (!wName) throw unsupported(node, 'a head without constant weights');
      const w = constants.get(wName) as { dims: number[]; data: Float32Array };
      const transB = node.op === 'Gemm' && attrInt(node, 'transB') === 1 && wName === node.inputs[1];
      if (w.dims.length !== 2) throw unsupported(node, `head weight of shape [${w.dims}]`);
      const [rows, cols] = w.dims;
      // PyTorch's weight is [O, H]: MatMul and Gemm without transB hold its transpose [H, O].
      let weight: Float32Array;
      let O: number;
      if (transB) {
        if (cols !== H) throw unsupported(node, `head weight [${w.dims}] does not read the hidden size ${H}`);
        weight = w.data.slice();
        O = rows;
      } else {
        if (rows !== H) throw unsupported(node, `head weight [${w.dims}] does not read the hidden size ${H}`);
        O = cols;
        weight = new Float32Array(O * H);
        for (let r = 0; r < H; r++) for (let c = 0; c < O; c++) weight[c * H + r] = w.data[r * O + c];
      }
      params['head.weight'] = { data: weight, shape: [O, H] };
      params['head.bias'] = { data: new Float32Array(O), shape: [O] };
      if (node.op === 'Gemm') {
        const alpha = node.attrs.get('alpha')?.find((x) => x.field === 2)?.num ?? 1;
        const beta = node.attrs.get('beta')?.find((x) => x.field === 2)?.num ?? 1;
        if (alpha !== 1 || beta !== 1) throw unsupported(node, `Gemm with alpha ${alpha}, beta ${beta} (nn.Linear has 1, 1)`);
        if (node.inputs[2]) params['head.bias'].data = biasOf(node, constant(node, node.inputs[2], 'bias C').data, O);
        head = { outputSize: O, activation: 'identity' };
      } else {
        pendingHead = { node, weight, O, out: node.outputs[0] };
      }
      continue;
    }
    if (node.op === 'Add' && pendingHead && node.inputs.includes(pendingHead.out)) {
      const bName = node.inputs.find((n) => n !== pendingHead?.out) as string;
      params['head.bias'].data = biasOf(node, constant(node, bName, 'head bias').data, pendingHead.O);
      head = { outputSize: pendingHead.O, activation: 'identity' };
      pendingHead = null;
      continue;
    }
    if ((node.op === 'Sigmoid' || node.op === 'Softmax') && (head || pendingHead) && head?.activation !== 'sigmoid' && head?.activation !== 'softmax') {
      if (pendingHead) {
        head = { outputSize: pendingHead.O, activation: 'identity' };
        pendingHead = null;
      }
      const axis = attrInt(node, 'axis');
      if (node.op === 'Softmax' && axis !== undefined && axis !== -1 && axis !== 2 && axis !== 1) throw unsupported(node, `softmax over axis ${axis} (the head's softmax is over its outputs)`);
      (head as { activation: HeadActivation }).activation = node.op === 'Sigmoid' ? 'sigmoid' : 'softmax';
      continue;
    }
    throw unsupported(node, head || pendingHead ? 'an operation after the head' : 'an operation between or after the recurrent layers that is not a head');
  }
  if (pendingHead) head = { outputSize: pendingHead.O, activation: 'identity' };
  if (!cell) throw formatError('The ONNX graph has no LSTM, GRU or RNN node', { nodes: nodes.length });
  return RecurrentModel.fromParameters({ cell, inputSize, hiddenSize: H, numLayers: layers, head }, params);
}

function biasOf(node: OnnxNode, data: Float32Array, O: number): Float32Array {
  if (data.length !== O) throw unsupported(node, `head bias of ${data.length} values for ${O} outputs`);
  return data.slice();
}
