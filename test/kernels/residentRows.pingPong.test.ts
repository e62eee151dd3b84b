import { describe, expect, it } from 'vitest';
import { RecurrentModel, seededRandom, type CellKind } from '../../src/cells/index.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import { createResidentRows, type ResidentRows } from '../../src/kernels/residentRows.js';

// A native step of a run of consecutive rows leaves their new state in onnxruntime's output
// tensors (ping-pong) instead of copying it back; whatever comes next — the same run again, a
// reset, another run, a gathered batch, a WebAssembly batch, a caller's top buffer, a regrow, a
// read or write — must see exactly the state a copy back after every step gives. The reference
// slab gets the same calls with a read after each step (a read puts displaced rows back).

function inputs(n: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (rnd() - 0.5) * 4);
}

function allRows(slab: ResidentRows): number[] {
  const out = new Float32Array(slab.rowFloats * slab.capacity);
  for (let r = 0; r < slab.capacity; r++) slab.read(r, out, r * slab.rowFloats);
  return Array.from(new Uint32Array(out.buffer));
}

const run = (from: number, n: number): Int32Array => Int32Array.from({ length: n }, (_, j) => from + j);
const I = 4;
// LSTM I=4 H=16 L=2: 3,328 multiply-adds a row (GRU L=3: 4,032), so 301+ (249+) rows go to onnxruntime and fewer to WebAssembly.
const N = 320;

describe.skipIf(!onnxRuntimeStatus().available)('ResidentRows ping-pong (native steps leave a run of rows in the output tensors)', () => {
  for (const [cell, L] of [['lstm', 2], ['gru', 3]] as Array<[CellKind, number]>) {
    it(`${cell} L=${L}: every kind of next call sees the bits of a copy back after each step`, () => {
      const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: 16, numLayers: L, seed: 4 });
      const slabs = [0, 1].map(() => createResidentRows(model, { maxBatch: N, engine: 'auto', threads: 1 }) as ResidentRows);
      const [pp, ref] = slabs;
      let seed = 1;
      const step = (idx: Int32Array, n = idx.length, top?: Float32Array): void => {
        const x = inputs(n * I, seed++);
        const tops = slabs.map(() => (top ? new Float32Array(top.length) : undefined));
        pp.step(idx, n, x, tops[0]);
        ref.step(idx, n, x, tops[1]);
        ref.read(0, new Float32Array(ref.rowFloats), 0);
        if (top) expect(Array.from(tops[0] as Float32Array)).toEqual(Array.from(tops[1] as Float32Array));
      };
      const both = (f: (s: ResidentRows) => void): void => slabs.forEach(f);
      both((s) => s.grow(N + 20));
      for (let t = 0; t < 3; t++) step(run(0, N)); // rows -> set 1 -> set 0 -> set 1
      expect(pp.kind).toBe('onnxruntime');
      both((s) => s.zero(3)); // a displaced row, zeroed in its tensor set
      both((s) => s.zero(N + 5)); // a row at home
      step(run(0, N));
      step(run(10, N)); // another run: the first goes home first
      step(Int32Array.from({ length: N }, (_, j) => (j * 7) % (N + 20))); // gathered
      step(run(0, N));
      step(Int32Array.of(2, 5, 9)); // WebAssembly
      expect(pp.kind).toBe('wasm-simd');
      step(run(0, N));
      step(run(0, N), N, new Float32Array(N * 16)); // the caller's top buffer
      step(run(0, N));
      const y = slabs.map((s) => Array.from(s.stepFresh(run(0, N), N, inputs(N * I, 99))));
      expect(y[0]).toEqual(y[1]);
      ref.read(0, new Float32Array(ref.rowFloats), 0);
      both((s) => s.grow(2 * N)); // a regrow moves the tensors
      step(run(0, N));
      const saved = new Float32Array(pp.rowFloats);
      ref.read(N + 1, saved, 0);
      both((s) => s.load(7, saved, 0)); // a write into a displaced row
      step(run(0, N));
      const snaps = slabs.map((s) => JSON.stringify(s.snapshot(8, cell)));
      expect(snaps[0]).toBe(snaps[1]);
      step(run(0, N - 1)); // the same first row, fewer rows
      expect(allRows(pp)).toEqual(allRows(ref));
      both((s) => s.release());
    });
  }
});
