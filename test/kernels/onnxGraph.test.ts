import { describe, expect, it } from 'vitest';
import { RecurrentModel, type CellKind } from '../../src/cells/index.js';
import { fieldString, ProtoWriter, readFields, repeatedVarints, WireType } from '../../src/cells/internal/protobufWire.js';
import { fromOnnxGateOrder, onnxLayerWeights, toOnnxGateOrder } from '../../src/cells/onnxGateOrder.js';
import { stepGraph } from '../../src/kernels/onnxGraph.js';

describe('protobuf wire codec', () => {
  it('writes and reads back varints (negative int64 too), floats, strings, bytes and packed varints', () => {
    const packed = new ProtoWriter();
    const inner = new ProtoWriter().string(1, 'héllo').finish();
    const msg = new ProtoWriter().varint(1, 0).varint(2, 300).varint(3, -1).varint(4, 2 ** 40 + 7).float(5, 0.5).string(6, 'LSTM').bytes(7, inner);
    // A packed repeated field is one bytes field holding varints back to back: 1, 128, 16384.
    packed.bytes(8, Uint8Array.from([0x01, 0x80, 0x01, 0x80, 0x80, 0x01]));
    const fields = readFields(new Uint8Array([...msg.finish(), ...packed.finish()]));
    expect(fields.map((f) => [f.field, f.wire])).toEqual([[1, 0], [2, 0], [3, 0], [4, 0], [5, 5], [6, 2], [7, 2], [8, 2]]);
    expect(fields.slice(0, 4).map((f) => f.num)).toEqual([0, 300, -1, 2 ** 40 + 7]);
    expect(fields[4].num).toBe(0.5);
    expect(fieldString(fields[5])).toBe('LSTM');
    expect(fieldString(readFields(fields[6].bytes)[0])).toBe('héllo');
    expect(repeatedVarints(fields, 8)).toEqual([1, 128, 16384]);
    expect(repeatedVarints(fields, 2)).toEqual([300]);
    expect(fields[0].wire).toBe(WireType.Varint);
  });

  it('refuses truncated input with a RangeError', () => {
    const bytes = new ProtoWriter().string(1, 'abcdef').finish();
    expect(() => readFields(bytes.subarray(0, 4))).toThrow(RangeError);
    expect(() => readFields(Uint8Array.from([0x08, 0x80]))).toThrow(RangeError);
    expect(() => readFields(Uint8Array.from([0x0b]))).toThrow(RangeError); // wire type 3 (groups)
  });
});

describe('ONNX step graph', () => {
  it('converts gate blocks to ONNX order and back (LSTM ifgo -> iofc, GRU rzn -> zrh)', () => {
    const H = 2;
    const blocks = (G: number) => Float32Array.from({ length: G * H * 3 }, (_, i) => Math.floor(i / (H * 3)));
    expect(Array.from(toOnnxGateOrder('lstm', blocks(4), H, 3)).filter((_, i) => i % 6 === 0)).toEqual([0, 3, 1, 2]);
    expect(Array.from(toOnnxGateOrder('gru', blocks(3), H, 3)).filter((_, i) => i % 6 === 0)).toEqual([1, 0, 2]);
    for (const kind of ['lstm', 'gru', 'rnn_tanh'] as CellKind[]) {
      const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
      const data = Float32Array.from({ length: G * H * 3 }, (_, i) => i);
      expect(Array.from(fromOnnxGateOrder(kind, toOnnxGateOrder(kind, data, H, 3), H, 3))).toEqual(Array.from(data));
    }
  });

  it('puts both biases in B, input bias first', () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 1, seed: 1 });
    const l = model.layers[0];
    const { B } = onnxLayerWeights('gru', l);
    expect(Array.from(B)).toEqual([l.biasIh[1], l.biasIh[0], l.biasIh[2], l.biasHh[1], l.biasHh[0], l.biasHh[2]]);
  });

  it('writes one recurrent node per layer, chained, with the attributes PyTorch semantics need', () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 });
    const top = readFields(stepGraph(model));
    const graph = readFields(top.find((f) => f.field === 7)!.bytes);
    const nodes = graph.filter((f) => f.field === 1).map((f) => readFields(f.bytes));
    expect(nodes.map((n) => fieldString(n.find((f) => f.field === 4)!))).toEqual(['GRU', 'GRU']);
    const inputs = (n: ReturnType<typeof readFields>) => n.filter((f) => f.field === 1).map(fieldString);
    expect(inputs(nodes[0])).toEqual(['x', 'W0', 'R0', 'B0', '', 'h0']);
    expect(inputs(nodes[1])[0]).toBe('h0_next');
    const attrs = nodes[0].filter((f) => f.field === 5).map((f) => readFields(f.bytes));
    const attr = (name: string) => attrs.find((a) => fieldString(a.find((f) => f.field === 1)!) === name)?.find((f) => f.field === 3)?.num;
    expect(attr('hidden_size')).toBe(4);
    expect(attr('linear_before_reset')).toBe(1);
    expect(graph.filter((f) => f.field === 5)).toHaveLength(6); // W, R, B per layer
  });
});
