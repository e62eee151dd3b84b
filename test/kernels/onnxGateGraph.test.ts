import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/index.js';
import { fieldString, readFields } from '../../src/cells/internal/protobufWire.js';
import { createAutoStepper, describeStepEngine } from '../../src/kernels/autoStepper.js';
import { createJsStepper } from '../../src/kernels/fusedStepper.js';
import { GATE_GRAPH_MAX_HIDDEN, lstmGateGraph } from '../../src/kernels/onnxGateGraph.js';
import { createOnnxStepper, nativeGraphOf } from '../../src/kernels/onnxEngine.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';

const ort = onnxRuntimeStatus();
if (!ort.available && process.env.CI === 'true') throw new Error(`CI must have onnxruntime-node (a dev dependency): ${ort.reason}`);
if (!ort.available) console.warn(`gate graph stepping tests skipped: ${ort.reason}`);

const lstm = (hiddenSize: number, numLayers = 1) => RecurrentModel.create({ cell: 'lstm', inputSize: 5, hiddenSize, numLayers, head: { outputSize: 2 }, seed: 3 });

describe('lstmGateGraph', () => {
  it('writes a gemm pair and an activation per gate, then the cell update, per layer, chained through h{k}_next', () => {
    const top = readFields(lstmGateGraph(lstm(4, 2)));
    const graph = readFields(top.find((f) => f.field === 7)!.bytes);
    const nodes = graph.filter((f) => f.field === 1).map((f) => readFields(f.bytes));
    const ops = nodes.map((n) => fieldString(n.find((f) => f.field === 4)!));
    const gate = ['Gemm', 'Gemm'];
    const layer = [...gate, 'Sigmoid', ...gate, 'Sigmoid', ...gate, 'Tanh', ...gate, 'Sigmoid', 'Mul', 'Mul', 'Add', 'Tanh', 'Mul'];
    expect(ops).toEqual([...layer, ...layer]);
    const inputs = (n: ReturnType<typeof readFields>) => n.filter((f) => f.field === 1).map(fieldString);
    const outputs = (n: ReturnType<typeof readFields>) => n.filter((f) => f.field === 2).map(fieldString);
    expect(inputs(nodes[0])).toEqual(['x', 'Wt_i0', 'b_i0']);
    expect(inputs(nodes[1])).toEqual(['h0', 'Rt_i0', 'x_i0']);
    expect(inputs(nodes[17])).toEqual(['h0_next', 'Wt_i1', 'b_i1']); // layer 1 reads layer 0's new h
    expect(inputs(nodes[12])).toEqual(['gate_f0', 'c0']);
    expect(outputs(nodes[14])).toEqual(['c0_next']);
    expect(outputs(nodes[33])).toEqual(['h1_next']);
    const names = (field: number) => graph.filter((f) => f.field === field).map((f) => fieldString(readFields(f.bytes)[0]));
    expect(names(11)).toEqual(['x', 'h0', 'c0', 'h1', 'c1']);
    expect(names(12)).toEqual(['h0_next', 'c0_next', 'h1_next', 'c1_next']);
  });

  it('refuses a model that is not an LSTM', () => {
    expect(() => lstmGateGraph(RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 3, seed: 1 }))).toThrow(RangeError);
  });
});

/** Clears SEQSTREAM_NATIVE_GRAPH around each test and puts back whatever the caller had set. */
function isolateGraphEnv(): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.SEQSTREAM_NATIVE_GRAPH;
    delete process.env.SEQSTREAM_NATIVE_GRAPH;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SEQSTREAM_NATIVE_GRAPH;
    else process.env.SEQSTREAM_NATIVE_GRAPH = saved;
  });
}

describe('nativeGraphOf', () => {
  isolateGraphEnv();

  it(`auto: the gate graph for LSTMs up to H=${GATE_GRAPH_MAX_HIDDEN}, the op above and for every other cell`, () => {
    expect(nativeGraphOf(lstm(GATE_GRAPH_MAX_HIDDEN))).toBe('gates');
    expect(nativeGraphOf(lstm(GATE_GRAPH_MAX_HIDDEN + 1))).toBe('op');
    expect(nativeGraphOf(RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 8, seed: 1 }))).toBe('op');
    expect(nativeGraphOf(RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 8, seed: 1 }), 'gates')).toBe('op');
  });

  it('the graph option, then SEQSTREAM_NATIVE_GRAPH, force it; a bad name is SEQ_INVALID_OPTION', () => {
    expect(nativeGraphOf(lstm(8), 'op')).toBe('op');
    expect(nativeGraphOf(lstm(128), 'gates')).toBe('gates');
    process.env.SEQSTREAM_NATIVE_GRAPH = 'op';
    expect(nativeGraphOf(lstm(8))).toBe('op');
    expect(nativeGraphOf(lstm(8), 'auto')).toBe('gates');
    process.env.SEQSTREAM_NATIVE_GRAPH = 'fused';
    expect(() => nativeGraphOf(lstm(8))).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION', message: expect.stringContaining('SEQSTREAM_NATIVE_GRAPH') }));
    expect(() => nativeGraphOf(lstm(8), 'fast' as never)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    // Read when a stepper is created, so a bad value fails there rather than at the first large batch.
    expect(() => createAutoStepper(lstm(8), createJsStepper(lstm(8)))).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});

describe.skipIf(!ort.available)('stepping the gate graph', () => {
  isolateGraphEnv();

  it("says in seqstream backend's engine line which LSTM graph runs", () => {
    expect(describeStepEngine(true, 'auto')).toContain(`LSTM graph: gate math on one thread up to H=${GATE_GRAPH_MAX_HIDDEN}, LSTM op above`);
    process.env.SEQSTREAM_NATIVE_GRAPH = 'op';
    expect(describeStepEngine(true, 'auto')).toContain('LSTM graph: LSTM op, forced');
  });

  it('agrees with the JavaScript loops and with the LSTM op graph on a 2-layer LSTM, batch 1 included', () => {
    const model = lstm(12, 2);
    const gates = createOnnxStepper(model, { graph: 'gates' })!;
    const op = createOnnxStepper(model, { graph: 'op' })!;
    const js = createJsStepper(model);
    for (const B of [1, 2, 37]) {
      const x = Float32Array.from({ length: B * 5 }, (_, i) => Math.sin(i * 0.3));
      const [a, b, c] = [model.createState(B), model.createState(B), model.createState(B)];
      for (let t = 0; t < 4; t++) {
        gates.stepInPlace(a, x);
        op.stepInPlace(b, x);
        js.stepInPlace(c, x);
      }
      for (let k = 0; k < 2; k++) {
        a.h[k].forEach((v, i) => expect(Math.abs(v - c.h[k][i]), `h[${k}][${i}] B=${B} vs js`).toBeLessThan(1e-5 + 1e-4 * Math.abs(c.h[k][i])));
        a.c![k].forEach((v, i) => expect(Math.abs(v - b.c![k][i]), `c[${k}][${i}] B=${B} vs op`).toBeLessThan(1e-5 + 1e-4 * Math.abs(b.c![k][i])));
      }
      const ya = new Float32Array(B * 2);
      const yc = new Float32Array(B * 2);
      gates.headInPlace(a, ya);
      js.headInPlace(c, yc);
      ya.forEach((v, i) => expect(Math.abs(v - yc[i])).toBeLessThan(1e-5 + 1e-4 * Math.abs(yc[i])));
    }
  });

  it('rebuilds after a weight update', () => {
    const model = lstm(6);
    const gates = createOnnxStepper(model, { graph: 'gates' })!;
    const js = createJsStepper(model);
    const x = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.cos(i));
    const [a, b] = [model.createState(3), model.createState(3)];
    gates.stepInPlace(a, x);
    js.stepInPlace(b, x);
    model.updateParameters((p) => p.get('weight_hh_l0')!.data.fill(0.25));
    gates.stepInPlace(a, x);
    js.stepInPlace(b, x);
    a.h[0].forEach((v, i) => expect(Math.abs(v - b.h[0][i]), `h[${i}] after the update`).toBeLessThan(1e-5 + 1e-4 * Math.abs(b.h[0][i])));
  });
});
