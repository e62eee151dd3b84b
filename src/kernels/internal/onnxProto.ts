import { ProtoWriter } from '../../cells/internal/protobufWire.js';

/**
 * The pieces of an ONNX `ModelProto` that seqstream's in-memory step graphs are written from
 * (`stepGraph` and `lstmGateGraph`): float initializers, typed graph inputs/outputs,
 * attributes, nodes and the model wrapper. Field numbers are onnx.proto3's.
 */

/** ONNX's IR version the step graphs declare. */
const STEP_GRAPH_IR_VERSION = 8;
const FLOAT = 1;

/**
 * A float32 initializer (`TensorProto` with `raw_data`).
 *
 * @example
 * ```ts
 * graph.bytes(5, floatTensor('W0', [1, 4 * H, I], W));
 * ```
 */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): Uint8Array {
  const w = new ProtoWriter();
  for (const d of dims) w.varint(1, d);
  w.varint(2, FLOAT);
  w.string(8, name);
  // raw_data is little-endian, which is what typed arrays hold on every platform Node runs on.
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return w.finish();
}

/**
 * A float32 graph input or output (`ValueInfoProto`); string dims are symbolic.
 *
 * @example
 * ```ts
 * graph.bytes(11, floatValueInfo('x', [1, 'batch', I]));
 * ```
 */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of dims) shape.bytes(1, typeof d === 'number' ? new ProtoWriter().varint(1, d).finish() : new ProtoWriter().string(2, d).finish());
  const tensorType = new ProtoWriter().varint(1, FLOAT).bytes(2, shape.finish()).finish();
  const type = new ProtoWriter().bytes(1, tensorType).finish();
  return new ProtoWriter().string(1, name).bytes(2, type).finish();
}

/**
 * An integer attribute.
 *
 * @example
 * ```ts
 * attrInt('hidden_size', 32);
 * ```
 */
export function attrInt(name: string, v: number): Uint8Array {
  return new ProtoWriter().string(1, name).varint(3, v).varint(20, 2).finish();
}

/**
 * A list-of-strings attribute.
 *
 * @example
 * ```ts
 * attrStrings('activations', ['Relu']);
 * ```
 */
export function attrStrings(name: string, values: readonly string[]): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  for (const v of values) w.string(9, v);
  return w.varint(20, 8).finish();
}

/**
 * A `NodeProto` of the default domain (an empty input name is an omitted optional input).
 *
 * @example
 * ```ts
 * graph.bytes(1, onnxNode('Sigmoid', 'sig0', ['g0'], ['s0']));
 * ```
 */
export function onnxNode(op: string, name: string, inputs: readonly string[], outputs: readonly string[], attrs: readonly Uint8Array[] = []): Uint8Array {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, op);
  for (const a of attrs) w.bytes(5, a);
  return w.finish();
}

/**
 * The serialized `ModelProto` around a finished `GraphProto`, for the default domain at `opset`.
 *
 * @example
 * ```ts
 * const bytes = modelProto(graph.finish(), 14);
 * ```
 */
export function modelProto(graph: Uint8Array, opset: number): Uint8Array {
  const opsetImport = new ProtoWriter().string(1, '').varint(2, opset).finish();
  return new ProtoWriter().varint(1, STEP_GRAPH_IR_VERSION).string(2, 'seqstream').bytes(7, graph).bytes(8, opsetImport).finish();
}
