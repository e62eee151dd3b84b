import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecurrentModel, seededRandom, type CellKind, type ModelState } from '../../src/cells/index.js';
import { createWasmStepper, shutdownStepPool, startStepPool, stepPoolStats } from '../../src/kernels/index.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import { createResidentRows, type ResidentRows } from '../../src/kernels/residentRows.js';

// State rows held in the kernel's memory and stepped by index must give, for every row, exactly
// the bits the copy-mode kernel gives when that row is stepped alone (crash replay compares rows
// stepped in different batches), on one thread, split with the worker, and after the slab grows.

function inputs(n: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (rnd() - 0.5) * 4);
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** Row `row` of a slab in checkpoint order. */
function rowOf(slab: ResidentRows, row: number): Float32Array {
  const out = new Float32Array(slab.rowFloats);
  slab.read(row, out, 0);
  return out;
}

/** A 1-row state's floats in checkpoint order. */
function flat(state: ModelState): Float32Array {
  return Float32Array.from([...state.h.flatMap((h) => Array.from(h)), ...(state.c ?? []).flatMap((c) => Array.from(c))]);
}

/**
 * Steps `keys` rows for `steps` steps, each step a random subset of rows in a random order, and
 * checks every row against a batch-1 copy-mode reference of the same events.
 */
function check(cell: CellKind, I: number, H: number, L: number, keys: number, threads: number, steps: number): void {
  const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: H, numLayers: L, seed: 7 * H + L });
  const slab = createResidentRows(model, { maxBatch: keys, engine: 'wasm', threads });
  expect(slab).not.toBeNull();
  const rows = slab as ResidentRows;
  rows.grow(keys);
  const alone = createWasmStepper(model, { threads: 1 })!;
  const refs = Array.from({ length: keys }, () => model.createState(1));
  let seed = 11;
  for (let t = 0; t < steps; t++) {
    if (t === 1) rows.grow(2 * keys + 3); // growing (the layout moves) keeps every row
    // A shuffled subset of distinct rows.
    const order = Array.from({ length: keys }, (_, i) => i);
    for (let i = keys - 1; i > 0; i--) {
      const j = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const n = t % 2 === 0 ? keys : Math.max(1, keys - 5);
    const idx = Int32Array.from(order.slice(0, n));
    const x = inputs(n * I, 97 * t + 5);
    rows.step(idx, n, x);
    for (let j = 0; j < n; j++) alone.stepInPlace(refs[idx[j]], x.subarray(j * I, j * I + I));
  }
  for (let r = 0; r < keys; r++) expect(bits(rowOf(rows, r)), `${cell} H=${H} L=${L} row ${r}`).toEqual(bits(flat(refs[r])));
  // top() copies the top layer's h of the rows asked for, in their order.
  const top = new Float32Array(2 * H);
  rows.top(Int32Array.of(keys - 1, 0), 2, top);
  expect(bits(top.subarray(0, H))).toEqual(bits(refs[keys - 1].h[L - 1]));
  expect(bits(top.subarray(H))).toEqual(bits(refs[0].h[L - 1]));
}

describe('ResidentRows (keyed state in kernel memory, stepped by index)', () => {
  let workers = false;
  beforeAll(async () => {
    workers = await startStepPool(2);
  });
  afterAll(async () => {
    await shutdownStepPool();
  });

  for (const [cell, H, L] of [
    ['lstm', 5, 2],
    ['gru', 16, 1],
    ['rnn_tanh', 7, 1],
  ] as const) {
    it(`${cell} H=${H} L=${L}: every row bit-identical to stepping it alone (one thread)`, () => check(cell, 3, H, L, 37, 1, 4));
  }

  it('large batches split with the worker thread stay bit-identical', () => {
    const before = stepPoolStats().workerRows;
    check('lstm', 40, 64, 2, 300, 2, 3);
    if (workers) expect(stepPoolStats().workerRows).toBeGreaterThan(before);
  });

  it.skipIf(!onnxRuntimeStatus().available)('native batches of consecutive rows (fed in place), runs of them and shuffled rows give the same bits', () => {
    // H a multiple of 4 (rows unpadded): consecutive rows go to onnxruntime without a gather.
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 16, numLayers: 2, seed: 5 });
    const keys = 40;
    const slabs = [0, 1, 2].map(() => createResidentRows(model, { maxBatch: keys, engine: 'native', threads: 1 }) as ResidentRows);
    slabs.forEach((s) => s.grow(keys));
    const consecutive = Array.from({ length: keys }, (_, i) => i);
    const runs = [...consecutive.slice(20, 30), ...consecutive.slice(0, 10), ...consecutive.slice(30), ...consecutive.slice(10, 20)];
    const shuffled = [...consecutive].sort((a, b) => ((a * 7919) % 41) - ((b * 7919) % 41));
    for (let t = 0; t < 4; t++) {
      const x = inputs(keys * 3, 31 * t + 1); // row r's input at r * 3, whatever the order
      [consecutive, runs, shuffled].forEach((order, k) => {
        const xs = new Float32Array(keys * 3);
        order.forEach((r, j) => xs.set(x.subarray(r * 3, r * 3 + 3), j * 3));
        slabs[k].step(Int32Array.from(order), keys, xs);
        expect(slabs[k].kind).toBe('onnxruntime');
      });
    }
    for (let r = 0; r < keys; r++) {
      expect(bits(rowOf(slabs[1], r)), `runs, row ${r}`).toEqual(bits(rowOf(slabs[0], r)));
      expect(bits(rowOf(slabs[2], r)), `shuffled, row ${r}`).toEqual(bits(rowOf(slabs[0], r)));
    }
    // Right after a native step, top() reads onnxruntime's output tensor (batch order).
    const top = new Float32Array(keys * 16);
    slabs[1].top(Int32Array.from(runs), keys, top);
    runs.forEach((r, j) => expect(bits(top.subarray(j * 16, j * 16 + 16))).toEqual(bits(rowOf(slabs[0], r).subarray(16, 32))));
  });

  it('zero/write/load/snapshot address one row and keep padded lanes at zero', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 3, seed: 1 });
    const rows = createResidentRows(model, { maxBatch: 4, engine: 'wasm', threads: 1 }) as ResidentRows;
    rows.grow(4);
    rows.load(2, Float32Array.of(1, 2, 3, 4, 5, 6), 0);
    expect(rows.snapshot(2, 'lstm')).toMatchObject({ h: [[1, 2, 3]], c: [[4, 5, 6]] });
    expect(Array.from(rowOf(rows, 1))).toEqual([0, 0, 0, 0, 0, 0]);
    const src = model.createState(2);
    src.h[0].set([7, 8, 9], 3);
    rows.write(1, src, 1);
    expect(Array.from(rowOf(rows, 1)).slice(0, 3)).toEqual([7, 8, 9]);
    rows.zero(2);
    expect(Array.from(rowOf(rows, 2))).toEqual([0, 0, 0, 0, 0, 0]);
    // H=3 pads to 4 lanes: a step of rows 1 and 2 must equal stepping them alone (padding stayed 0).
    const alone = createWasmStepper(model, { threads: 1 })!;
    const ref = model.createState(1);
    ref.h[0].set([7, 8, 9]);
    const x = Float32Array.of(0.5, -0.25, 0.5, -0.25);
    rows.step(Int32Array.of(1, 2), 2, x);
    alone.stepInPlace(ref, x.subarray(0, 2));
    expect(bits(rowOf(rows, 1))).toEqual(bits(flat(ref)));
  });

  it.skipIf(!onnxRuntimeStatus().available)('batches on onnxruntime-node land back in the right rows', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 4, hiddenSize: 8, seed: 3 });
    const native = createResidentRows(model, { maxBatch: 16, engine: 'native', threads: 1 }) as ResidentRows;
    const wasm = createResidentRows(model, { maxBatch: 16, engine: 'wasm', threads: 1 }) as ResidentRows;
    native.grow(16);
    wasm.grow(16);
    let idx = Int32Array.of(9, 2, 15, 0, 4);
    for (let t = 0; t < 4; t++) {
      if (t === 2) {
        // Growing after the first native batch moves the rows and onnxruntime's tensors: both kept.
        native.grow(40);
        wasm.grow(40);
        idx = Int32Array.of(9, 33, 2, 15, 0, 4);
      }
      const x = inputs(idx.length * 4, t + 1);
      native.step(idx, idx.length, x);
      wasm.step(idx, idx.length, x);
    }
    expect(native.kind).toBe('onnxruntime');
    for (let r = 0; r < 40; r++) {
      const a = rowOf(native, r);
      const b = rowOf(wasm, r);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5 + 1e-4 * Math.abs(b[i]));
      if (!idx.includes(r)) expect(Array.from(a).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('ResidentRows refuses what the kernel would read or write out of bounds', () => {
  it('rows past the grown capacity, batches past maxBatch and short inputs are SEQ_INPUT_SHAPE; bad options SEQ_INVALID_OPTION', () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(() => createResidentRows(model, { maxBatch: 0, engine: 'wasm' })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => createResidentRows(model, { maxBatch: 4, engine: 'gpu' as never })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    const slab = createResidentRows(model, { maxBatch: 4, engine: 'wasm', threads: 1 }) as ResidentRows;
    slab.grow(2);
    const before = [rowOf(slab, 0), rowOf(slab, 1)].map(bits);
    const shape = expect.objectContaining({ code: 'SEQ_INPUT_SHAPE' });
    expect(() => slab.step(Int32Array.of(0, 2), 2, inputs(6, 1))).toThrow(shape);
    expect(() => slab.step(Int32Array.of(0, -1), 2, inputs(6, 1))).toThrow(shape);
    expect(() => slab.step(Int32Array.of(0, 1, 0, 1, 0), 5, inputs(15, 1))).toThrow(shape);
    expect(() => slab.step(Int32Array.of(0, 1), 2, inputs(5, 1))).toThrow(shape);
    expect([rowOf(slab, 0), rowOf(slab, 1)].map(bits)).toEqual(before);
    slab.step(Int32Array.of(1, 0), 2, inputs(6, 1));
    expect(bits(rowOf(slab, 0))).not.toEqual(before[0]);
    slab.release();
  });
});

describe('ResidentRows.stage (inputs copied into kernel memory and checked there in SIMD)', () => {
  for (const engine of onnxRuntimeStatus().available ? (['wasm', 'native'] as const) : (['wasm'] as const)) {
    it(`${engine}: finds NaN and ±Infinity at every position (SIMD rounds and the tail); a staged step, its top rows written into the caller's buffer, gives the bits of a plain one`, () => {
      const I = 3;
      const n = 11; // 33 floats: two 16-float rounds and a tail of 1
      const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 8, seed: 5 });
      const staged = createResidentRows(model, { maxBatch: n, engine, threads: 1 }) as ResidentRows;
      const plain = createResidentRows(model, { maxBatch: n, engine, threads: 1 }) as ResidentRows;
      staged.grow(n);
      plain.grow(n);
      const x = inputs(n * I, 3);
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        for (let at = 0; at < n * I; at++) {
          const y = x.slice();
          y[at] = bad;
          expect(staged.stage(y, n), `${bad} at ${at}`).toBeNull();
        }
      }
      // Subnormals, -0 and the largest finite float are finite.
      const edge = x.slice();
      edge.set([1e-45, -0, 3.4028234663852886e38, -3.4028234663852886e38], 29);
      expect(staged.stage(edge, n)).not.toBeNull();
      const shuffled = Int32Array.from({ length: n }, (_, j) => (j * 7) % n);
      const run = Int32Array.from({ length: n }, (_, j) => j);
      for (let t = 0; t < 4; t++) {
        // Shuffled rows and a run of consecutive rows (stepped in place on the native engine).
        const idx = t % 2 === 0 ? shuffled : run;
        const xt = inputs(n * I, 10 + t);
        const view = staged.stage(xt, n) as Float32Array;
        expect(bits(view)).toEqual(bits(xt));
        // With a 'top' buffer the new top-layer h lands there (onnxruntime writes it directly), as top() gives it.
        const top = new Float32Array(n * 8);
        staged.step(idx, n, view, top);
        plain.step(idx, n, xt);
        const want = new Float32Array(n * 8);
        plain.top(idx, n, want);
        expect(bits(top)).toEqual(bits(want));
      }
      for (let r = 0; r < n; r++) expect(bits(rowOf(staged, r))).toEqual(bits(rowOf(plain, r)));
      expect(() => staged.stage(x, n + 1)).toThrow(expect.objectContaining({ code: 'SEQ_INPUT_SHAPE' }));
    });
  }
});
