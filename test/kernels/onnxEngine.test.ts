import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadStateDict, RecurrentModel, type CellKind, type HeadActivation } from '../../src/cells/index.js';
import { createAutoStepper, NATIVE_MIN_WORK, rowWork } from '../../src/kernels/autoStepper.js';
import { createFusedStepper, createJsStepper, type FusedStepper } from '../../src/kernels/fusedStepper.js';
import { createOnnxStepper, requireOnnxStepper } from '../../src/kernels/onnxEngine.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import type { ForwardFixture as VerifyFixture } from '../../src/cli/verifyForward.js';
import { createWasmStepper } from '../../src/kernels/wasmStepper.js';

/** A forward or stream-chunk fixture (schema of test/fixtures/pytorch/README.md). */
type ForwardFixture = Omit<VerifyFixture, 'config'> & { case: string; config: { cell: CellKind; head_activation?: HeadActivation }; windows?: unknown };

const ort = onnxRuntimeStatus();
// onnxruntime-node is a dev dependency: CI installs it, so there its absence is a failure.
if (!ort.available && process.env.CI === 'true') throw new Error(`CI must have onnxruntime-node (a dev dependency): ${ort.reason}`);
if (!ort.available) console.warn(`native engine tests skipped: ${ort.reason}`);

const DIRS = ['../shared/fixtures/pytorch', 'test/fixtures/pytorch'].filter((d) => existsSync(d));
if (DIRS.length === 0) console.warn('native engine fixture tests skipped: no ../shared/fixtures/pytorch or test/fixtures/pytorch here');
const fixtures = DIRS.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)))
  .map((f) => [f, JSON.parse(readFileSync(f, 'utf8')) as ForwardFixture] as const)
  .filter(([, fx]) => fx.windows === undefined && Array.isArray(fx.output) && fx.params);

function close(actual: number, ref: number, what: string): void {
  const err = Math.abs(actual - ref);
  if (!(err <= 1e-5 + 1e-4 * Math.abs(ref))) throw new Error(`${what}: ${actual} vs PyTorch ${ref} (|diff| ${err})`);
}

function modelOf(fx: ForwardFixture): RecurrentModel {
  return loadStateDict(fx.params as never, { cell: fx.config.cell, nonlinearity: fx.config.cell === 'rnn_relu' ? 'relu' : 'tanh', headActivation: fx.config.head_activation });
}

/** Steps the fixture's whole batch through `stepper`, from h0/c0, checking every step (and the chunks when there are). */
function checkFixture(fx: ForwardFixture, model: RecurrentModel, stepper: FusedStepper): void {
  const { hiddenSize: H, inputSize: I, numLayers: L } = model.config;
  const B = fx.x.length;
  const O = model.head?.outputSize ?? 0;
  const state = model.createState(B);
  for (let k = 0; k < L; k++) {
    state.h[k].set(fx.h0[k].flat());
    if (state.c && fx.c0) state.c[k].set(fx.c0[k].flat());
  }
  const y = new Float32Array(B * O);
  const x = new Float32Array(B * I);
  const run = (xs: number[][][], output: number[][][], hN: number[][][], cN: number[][][] | undefined, what: string, ys?: number[][][]): void => {
    for (let t = 0; t < xs[0].length; t++) {
      for (let b = 0; b < B; b++) x.set(xs[b][t], b * I);
      const top = stepper.stepInPlace(state, x);
      for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) close(top[b * H + j], output[b][t][j], `${what} output[${b}][${t}][${j}]`);
      if (ys) {
        stepper.headInPlace(state, y);
        for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) close(y[b * O + o], ys[b][t][o], `${what} y[${b}][${t}][${o}]`);
      }
    }
    for (let k = 0; k < L; k++) {
      hN[k].flat().forEach((v, i) => close(state.h[k][i], v, `${what} h_n[${k}][${i}]`));
      cN?.[k].flat().forEach((v, i) => close((state.c as Float32Array[])[k][i], v, `${what} c_n[${k}][${i}]`));
    }
  };
  if (fx.chunks) fx.chunks.forEach((c, j) => run(c.x, c.output, c.h_n, c.c_n, `${fx.case} chunk ${j}`));
  else run(fx.x, fx.output, fx.h_n, fx.c_n, fx.case, fx.y);
}

describe.skipIf(!ort.available)('onnxruntime-node engine', () => {
  afterEach(() => {
    delete process.env.SEQSTREAM_ENGINE;
  });

  describe.skipIf(DIRS.length === 0)('matches PyTorch on every forward and chunk fixture', () => {
    it('finds fixtures', () => expect(fixtures.length).toBeGreaterThan(0));
    it.each(fixtures.map(([f, fx]) => [f, fx] as const))('%s', (_f, fx) => {
      const model = modelOf(fx);
      const native = createOnnxStepper(model);
      expect(native?.kind).toBe('onnxruntime');
      checkFixture(fx, model, native!);
      // The op graph on one thread and on two (onnxruntime splits rows, not sums), and for LSTMs
      // the gate graph too (auto picks one of the two by hiddenSize): all must match PyTorch.
      for (const threads of [1, 2]) checkFixture(fx, model, createOnnxStepper(model, { graph: 'op', threads })!);
      if (fx.config.cell === 'lstm') checkFixture(fx, model, createOnnxStepper(model, { graph: 'gates' })!);
    });
  });

  it('is batch-invariant: a row rounds the same alone or among 300 (every cell kind)', () => {
    const cases = [...(['lstm', 'gru', 'rnn_tanh', 'rnn_relu'] as CellKind[]).map((cell) => [cell, 'op'] as const), ['lstm', 'gates'] as const];
    for (const [cell, graph] of cases) {
      const model = RecurrentModel.create({ cell, inputSize: 6, hiddenSize: 20, numLayers: 2, seed: 4 });
      const native = createOnnxStepper(model, { graph })!;
      const B = 300;
      const x = Float32Array.from({ length: B * 6 }, (_, i) => Math.sin(i * 0.7));
      const big = model.createState(B);
      for (let t = 0; t < 3; t++) native.stepInPlace(big, x);
      for (const [r, n] of [[0, 1], [17, 1], [299, 2], [5, 37]]) {
        const small = model.createState(n);
        const xs = new Float32Array(n * 6);
        for (let i = 0; i < n; i++) xs.set(x.subarray(r * 6, r * 6 + 6), i * 6);
        for (let t = 0; t < 3; t++) native.stepInPlace(small, xs);
        expect(Array.from(small.h[1].subarray(0, 20)), `${cell} (${graph} graph) row ${r} in a batch of ${n}`).toEqual(Array.from(big.h[1].subarray(r * 20, r * 20 + 20)));
      }
    }
  });

  it('follows weight updates (model.version) and agrees with the JavaScript loops', () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 5, head: { outputSize: 2 }, seed: 9 });
    const native = requireOnnxStepper(model);
    const js = createJsStepper(model);
    const x = Float32Array.from({ length: 4 * 3 }, (_, i) => Math.cos(i));
    const a = model.createState(4);
    const b = model.createState(4);
    native.stepInPlace(a, x);
    js.stepInPlace(b, x);
    model.updateParameters((p) => p.get('weight_hh_l0')!.data.fill(0.25));
    native.stepInPlace(a, x);
    js.stepInPlace(b, x);
    a.h[0].forEach((v, i) => close(v, b.h[0][i], `h[${i}] after the update`));
  });

  it("auto hands batches of NATIVE_MIN_WORK+ multiply-adds to onnxruntime and keeps small ones on wasm", () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 40, hiddenSize: 32, seed: 2 });
    const minRows = Math.ceil(NATIVE_MIN_WORK / rowWork(model));
    expect(minRows).toBe(109);
    const wasm = createWasmStepper(model)!;
    const auto = createAutoStepper(model, wasm);
    const x = Float32Array.from({ length: 200 * 40 }, (_, i) => Math.sin(i));
    const small = model.createState(minRows - 1);
    auto.stepInPlace(small, x);
    expect(auto.kind).toBe('wasm-simd');
    const ref = model.createState(minRows - 1);
    wasm.stepInPlace(ref, x);
    expect(Array.from(small.h[0])).toEqual(Array.from(ref.h[0])); // bit-identical: it was the wasm kernel
    const large = model.createState(minRows);
    auto.stepInPlace(large, x);
    expect(auto.kind).toBe('wasm-simd+onnxruntime');
    const nat = model.createState(minRows);
    requireOnnxStepper(model).stepInPlace(nat, x);
    expect(Array.from(large.h[0])).toEqual(Array.from(nat.h[0])); // bit-identical: it was onnxruntime
  });

  it('the engine option and SEQSTREAM_ENGINE force a path; a bad name is SEQ_INVALID_OPTION', () => {
    const model = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3, seed: 1 });
    expect(createFusedStepper(model, { engine: 'native' }).kind).toBe('onnxruntime');
    expect(createFusedStepper(model, { engine: 'wasm' }).kind).toBe('wasm-simd');
    expect(createFusedStepper(model, { engine: 'js' }).kind).toBe('js');
    process.env.SEQSTREAM_ENGINE = 'native';
    expect(createFusedStepper(model).kind).toBe('onnxruntime');
    process.env.SEQSTREAM_ENGINE = 'fast';
    expect(() => createFusedStepper(model)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION', message: expect.stringContaining('SEQSTREAM_ENGINE') }));
    expect(() => createFusedStepper(model, { engine: 'gpu' as never })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
