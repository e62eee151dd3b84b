import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnx, RecurrentModel, type CellKind } from '../../src/cells/index.js';
import { verifyFixtures } from '../../src/cli/verify.js';
import { ProtoWriter } from '../../src/cells/internal/protobufWire.js';
import { stepGraph } from '../../src/kernels/onnxGraph.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';

const DIR = 'test/fixtures/onnx';
const fixture = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));

describe('loadOnnx', () => {
  it('loads every torch.onnx.export fixture and matches PyTorch on every path (incl. both step kernels)', () => {
    const cases = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    expect(cases.length).toBe(4);
    const lines = verifyFixtures([DIR], { engines: ['fused'] });
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line.kind, line.case).toBe('onnx');
      expect(line.status, `${line.case}: ${line.reason}`).toBe('pass');
      expect(line.checked).toEqual(expect.arrayContaining(['whole:fused', 'events:fused', 'kernels:wasm-simd']));
      if (onnxRuntimeStatus().available) expect(line.checked).toContain('kernels:onnxruntime');
    }
  });

  it('reads the architecture: cell, layers, sizes, head and its activation', () => {
    const lstm = loadOnnx(fixture('lstm_l2_head.onnx'));
    expect(lstm.config).toEqual({ cell: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 2, head: { outputSize: 2, activation: 'identity' } });
    expect(loadOnnx(fixture('gru_l1_head_sigmoid.onnx')).config.head).toEqual({ outputSize: 3, activation: 'sigmoid' });
    expect(loadOnnx(fixture('rnn_tanh_l1_head_softmax.onnx')).config.head).toEqual({ outputSize: 3, activation: 'softmax' });
    const relu = loadOnnx(fixture('rnn_relu_l2.onnx'));
    expect(relu.config).toMatchObject({ cell: 'rnn_relu', numLayers: 2, head: null });
  });

  it("round-trips seqstream's own step graph (gate order converted there and back)", () => {
    for (const cell of ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'] as CellKind[]) {
      const model = RecurrentModel.create({ cell, inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 8 });
      const back = loadOnnx(stepGraph(model));
      expect(back.config).toEqual({ ...model.config });
      for (const p of model.parameters()) expect(Array.from(back.parameter(p.name).data), `${cell} ${p.name}`).toEqual(Array.from(p.data));
    }
  });

  it('refuses a bidirectional layer, naming the node', () => {
    const err = catchError(() => loadOnnx(fixture('refuse_bidirectional.onnx')));
    expect(err.code).toBe('SEQ_ONNX_UNSUPPORTED');
    expect(err.details.op).toBe('LSTM');
    expect(err.message).toContain(`ONNX node '${err.details.node}' (LSTM)`);
    expect(err.message).toContain("direction 'bidirectional'");
  });

  it('refuses an op it cannot map (a ReLU after the head), naming the node', () => {
    const err = catchError(() => loadOnnx(fixture('refuse_relu_after_head.onnx')));
    expect(err.code).toBe('SEQ_ONNX_UNSUPPORTED');
    expect(err.details.op).toBe('Relu');
    expect(err.message).toMatch(/ONNX node '.+' \(Relu\)/);
  });

  it("refuses GRU linear_before_reset=0 (not PyTorch's GRU)", () => {
    const H = 2;
    const tensor = (name: string, dims: number[]) => {
      const w = new ProtoWriter();
      for (const d of dims) w.varint(1, d);
      const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
      return w.varint(2, 1).string(8, name).bytes(9, new Uint8Array(data.buffer)).finish();
    };
    const attr = new ProtoWriter().string(1, 'linear_before_reset').varint(3, 0).varint(20, 2).finish();
    const node = new ProtoWriter().string(1, 'x').string(1, 'W').string(1, 'R').string(2, 'y').string(3, 'gru_zero').string(4, 'GRU').bytes(5, attr).finish();
    const graph = new ProtoWriter().bytes(1, node).bytes(5, tensor('W', [1, 3 * H, 2])).bytes(5, tensor('R', [1, 3 * H, H])).finish();
    const model = new ProtoWriter().varint(1, 8).bytes(7, graph).finish();
    const err = catchError(() => loadOnnx(model));
    expect(err.code).toBe('SEQ_ONNX_UNSUPPORTED');
    expect(err.details.node).toBe('gru_zero');
    expect(err.message).toContain('linear_before_reset=0');
  });

  it('bytes that are not an ONNX model are SEQ_ONNX_FORMAT', () => {
    const good = fixture('lstm_l2_head.onnx');
    for (const bad of [good.subarray(0, good.length - 7), new TextEncoder().encode('{"format":"seqstream-model"}'), new Uint8Array(0)]) {
      expect(catchError(() => loadOnnx(bad)).code).toBe('SEQ_ONNX_FORMAT');
    }
    expect(catchError(() => loadOnnx('model.onnx' as never)).code).toBe('SEQ_ONNX_FORMAT');
  });
});

function catchError(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected an error');
}
