import { afterEach, describe, expect, it } from 'vitest';
import { RecurrentModel, type CellKind, type ModelState } from '../../src/cells/index.js';
import { createFusedStepper, createJsStepper } from '../../src/kernels/index.js';
import { createWasmStepper, gatesKernelModule } from '../../src/kernels/index.js';

const CELLS: CellKind[] = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'];

/** The fixture tolerance: |a - ref| <= 1e-5 + 1e-4 * |ref|. */
function expectClose(actual: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(actual[i] - ref[i]);
    if (!(err <= 1e-5 + 1e-4 * Math.abs(ref[i]))) {
      throw new Error(`${what}[${i}]: ${actual[i]} vs reference ${ref[i]} (|diff| ${err})`);
    }
  }
}

function expectStatesClose(a: ModelState, ref: ModelState, what: string): void {
  a.h.forEach((h, k) => expectClose(h, ref.h[k], `${what} h[${k}]`));
  a.c?.forEach((c, k) => expectClose(c, (ref.c as Float32Array[])[k], `${what} c[${k}]`));
}

function randomInputs(n: number, scale = 2, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

/** Steps the same model with the JS loops and the kernel and compares every layer's state after each step. */
function compare(cell: CellKind, I: number, H: number, L: number, B: number, steps: number, scale = 2): void {
  const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: H, numLayers: L, seed: I * 1000 + H * 10 + L });
  const js = createJsStepper(model);
  const wasm = createWasmStepper(model);
  expect(wasm).not.toBeNull();
  const ref = model.createState(B);
  const got = model.createState(B);
  for (let t = 0; t < steps; t++) {
    const x = randomInputs(B * I, scale, t + 1);
    js.stepInPlace(ref, x);
    const top = wasm!.stepInPlace(got, x);
    expect(top).toBe(got.h[L - 1]);
    expectStatesClose(got, ref, `${cell} I=${I} H=${H} L=${L} B=${B} t=${t}`);
  }
}

describe('WebAssembly SIMD step kernel', () => {
  const savedEnv = process.env.SEQSTREAM_KERNEL;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.SEQSTREAM_KERNEL;
    else process.env.SEQSTREAM_KERNEL = savedEnv;
  });

  it('compiles on this runtime and is what createFusedStepper picks', () => {
    expect(gatesKernelModule()).toBeInstanceOf(WebAssembly.Module);
    delete process.env.SEQSTREAM_KERNEL;
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(createFusedStepper(model).kind).toBe('wasm-simd');
  });

  it('SEQSTREAM_KERNEL=js forces the JavaScript loops', () => {
    process.env.SEQSTREAM_KERNEL = 'js';
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(createFusedStepper(model).kind).toBe('js');
  });

  describe.each(CELLS)('%s matches the JS loops', (cell) => {
    it.each([
      [40, 32, 1],
      [1, 1, 1],
      [1, 5, 2],
      [7, 13, 3],
      [40, 128, 1],
      [3, 18, 2],
      [40, 33, 1],
    ])('batch 1, I=%i H=%i layers=%i', (I, H, L) => compare(cell, I, H, L, 1, 12));

    it.each([
      [5, 7, 2],
      [4, 16, 1],
      [40, 9, 1],
    ])('batch 1000, I=%i H=%i layers=%i', (I, H, L) => compare(cell, I, H, L, 1000, 3));

    it('batch 6 (a 4-row tile plus single rows) at H=130', () => compare(cell, 11, 130, 1, 6, 4));

    it('with saturating inputs (|x| up to 60)', () => compare(cell, 6, 12, 2, 5, 8, 60));
  });

  it('follows weight updates (model.version)', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 4, hiddenSize: 6, numLayers: 2, seed: 5 });
    const js = createJsStepper(model);
    const wasm = createWasmStepper(model)!;
    const ref = model.createState(2);
    const got = model.createState(2);
    for (let t = 0; t < 6; t++) {
      if (t === 3) {
        model.updateParameters((params) => {
          for (const p of params.values()) for (let i = 0; i < p.data.length; i++) p.data[i] *= -1.5;
        });
      }
      const x = randomInputs(8, 1, t + 7);
      js.stepInPlace(ref, x);
      wasm.stepInPlace(got, x);
      expectStatesClose(got, ref, `t=${t}`);
    }
  });

  it('keeps states of different sizes independent on one model (growth and interleaving)', () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 5, seed: 9 });
    const js = createJsStepper(model);
    const a = createWasmStepper(model)!;
    const b = createFusedStepper(model);
    const sizes = [1, 300, 3, 1];
    const refs = sizes.map((n) => model.createState(n));
    const gots = sizes.map((n) => model.createState(n));
    for (let t = 0; t < 4; t++) {
      sizes.forEach((n, i) => {
        const x = randomInputs(n * 3, 1, 100 * t + i);
        js.stepInPlace(refs[i], x);
        (i % 2 ? a : b).stepInPlace(gots[i], x);
        expectStatesClose(gots[i], refs[i], `state ${i} t=${t}`);
      });
    }
  });

  it('reads plain arrays, Float64Arrays and longer typed arrays as x', () => {
    const model = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 3, hiddenSize: 4, seed: 2 });
    const wasm = createWasmStepper(model)!;
    const want = model.createState();
    createJsStepper(model).stepInPlace(want, [0.5, -1, 2]);
    for (const x of [[0.5, -1, 2], Float64Array.of(0.5, -1, 2), Float32Array.of(0.5, -1, 2, 99)]) {
      const s = model.createState();
      wasm.stepInPlace(s, x);
      expectClose(s.h[0], want.h[0], String(x.constructor.name));
    }
  });

  it('computes the head like the JS path', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 4, hiddenSize: 10, head: { outputSize: 3, activation: 'softmax' }, seed: 4 });
    const wasm = createWasmStepper(model)!;
    const ref = model.createState(2);
    const got = model.createState(2);
    const x = randomInputs(8, 1, 3);
    model.stepInPlace(ref, x);
    wasm.stepInPlace(got, x);
    const yRef = model.headInPlace(ref, new Float32Array(6));
    expectClose(wasm.headInPlace(got, new Float32Array(6)), yRef, 'y');
  });

  it('accepts an empty batch', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, seed: 2 });
    const wasm = createWasmStepper(model)!;
    expect(wasm.stepInPlace(model.createState(0), []).length).toBe(0);
    compare('lstm', 2, 4, 1, 2, 2);
  });

  it('propagates NaN inputs like the JS path', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, seed: 2 });
    const s = model.createState();
    createWasmStepper(model)!.stepInPlace(s, [Number.NaN, 1]);
    expect(Array.from(s.h[0]).every(Number.isNaN)).toBe(true);
  });
});

describe('batch invariance', () => {
  it.each(['lstm', 'gru', 'rnn_tanh'] as const)('%s: a row steps bit-identically alone or at any position of any batch', (cell) => {
    const model = RecurrentModel.create({ cell, inputSize: 5, hiddenSize: 37, numLayers: 2, seed: 21 });
    const stepper = createFusedStepper(model);
    const rowX = Float32Array.from({ length: 5 }, (_, i) => Math.sin(i + 1));
    const alone = model.createState(1);
    stepper.stepInPlace(alone, rowX);
    stepper.stepInPlace(alone, rowX);
    for (const batch of [2, 4, 5, 9]) {
      for (const pos of [0, batch - 1, Math.floor(batch / 2)]) {
        const state = model.createState(batch);
        const x = Float32Array.from({ length: batch * 5 }, (_, i) => Math.cos(i));
        x.set(rowX, pos * 5);
        stepper.stepInPlace(state, x);
        stepper.stepInPlace(state, x);
        for (let k = 0; k < 2; k++) expect(Array.from(state.h[k].subarray(pos * 37, (pos + 1) * 37))).toEqual(Array.from(alone.h[k]));
      }
    }
  });

  // A row stepped alone takes the one-row path (pairs of column blocks, then a single block and
  // narrow blocks: H=50 pads to 52 lanes, so every kind of block occurs); in a batch of 1,027 it
  // is in a 4-row tile, or one of the 3 rows after the last tile. Bit-identical either way.
  it.each(['lstm', 'gru', 'rnn_tanh'] as const)('%s: H=50 and H=128, alone or at any position of 1,027 rows', (cell) => {
    for (const H of [50, 128]) {
      const I = 40;
      const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: H, seed: H });
      const stepper = createWasmStepper(model, { threads: 1 })!;
      const B = 1027;
      const x = randomInputs(B * I, 2, H);
      const all = model.createState(B);
      for (let t = 0; t < 2; t++) stepper.stepInPlace(all, x);
      for (const pos of [0, 1, 514, 1023, 1024, 1026]) {
        const one = model.createState(1);
        for (let t = 0; t < 2; t++) stepper.stepInPlace(one, x.subarray(pos * I, (pos + 1) * I));
        const bits = (f: Float32Array): number[] => Array.from(new Uint32Array(f.slice().buffer));
        expect(bits(all.h[0].subarray(pos * H, (pos + 1) * H)), `${cell} H=${H} row ${pos} h`).toEqual(bits(one.h[0]));
        if (all.c && one.c) expect(bits(all.c[0].subarray(pos * H, (pos + 1) * H)), `${cell} H=${H} row ${pos} c`).toEqual(bits(one.c[0]));
      }
    }
  });
});
