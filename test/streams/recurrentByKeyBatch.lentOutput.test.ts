import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import type { StepEngine } from '../../src/kernels/autoStepper.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import { recurrentByKeyBatch, type KeyedOutputBlock } from '../../src/streams/index.js';

// With emit 'hidden' on onnxruntime-node, a block's y is the binding's own fresh copy of the top
// layer's h (no second buffer); with emit 'all' its h is. Each emitted buffer must still be the
// caller's alone: a buffer of its own, never one of the kernel's or onnxruntime's internal
// buffers, so writing into one block's y or h changes nothing that comes after.
const I = 3;
const H = 8;
const engines: StepEngine[] = onnxRuntimeStatus().available ? ['native', 'wasm'] : ['wasm'];

function blocks(keys: string[], count: number): Float32Array[] {
  const rnd = seededRandom(5);
  return Array.from({ length: count }, () => Float32Array.from({ length: keys.length * I }, () => rnd() * 2 - 1));
}

/** Runs the blocks; with `scribble`, overwrites each emitted y and h (and their whole buffers) as soon as they arrive. Returns copies of what arrived. */
function run(engine: StepEngine, keys: string[], xs: Float32Array[], scribble: boolean, emit: 'hidden' | 'all' = 'hidden'): { ys: number[][]; hs: number[][]; outs: KeyedOutputBlock<string>[] } {
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 7, ...(emit === 'all' ? { head: { outputSize: 2 } } : {}) });
  const subject = new Subject<{ keys: string[]; x: Float32Array }>();
  const ys: number[][] = [];
  const hs: number[][] = [];
  const outs: KeyedOutputBlock<string>[] = [];
  subject.pipe(recurrentByKeyBatch<string>(model, { engine, maxBatch: 64, emit })).subscribe((o) => {
    ys.push(Array.from(o.y));
    if (o.h) hs.push(Array.from(o.h));
    outs.push(o);
    if (scribble) {
      new Float32Array(o.y.buffer).fill(Number.NaN);
      if (o.h) new Float32Array(o.h.buffer).fill(Number.NaN);
    }
  });
  for (const x of xs) subject.next({ keys, x });
  subject.complete();
  return { ys, hs, outs };
}

describe("recurrentByKeyBatch emit 'hidden': emitted buffers are the caller's own", () => {
  for (const engine of engines) {
    it(`${engine}: distinct buffers of their own per block; writing into one changes no later block`, () => {
      const keys = Array.from({ length: 40 }, (_, k) => `k${k}`);
      const xs = blocks(keys, 6);
      const clean = run(engine, keys, xs, false);
      const scribbled = run(engine, keys, xs, true);
      expect(clean.ys.length).toBe(6);
      expect(scribbled.ys).toEqual(clean.ys);
      const buffers = new Set(clean.outs.map((o) => o.y.buffer));
      expect(buffers.size).toBe(6);
      for (const o of clean.outs) {
        expect(o.y.length).toBe(keys.length * H);
        // A buffer of its own: not a view into kernel memory or any larger internal block.
        expect(o.y.byteOffset).toBe(0);
        expect(o.y.buffer.byteLength).toBe(o.y.byteLength);
        expect(o.y.buffer).toBeInstanceOf(ArrayBuffer);
      }
      // The blocks after the first still differ from one another (the state moved on).
      expect(clean.ys[5]).not.toEqual(clean.ys[4]);
    });
  }
});

describe("recurrentByKeyBatch emit 'all': the emitted h is the caller's own", () => {
  for (const engine of engines) {
    it(`${engine}: distinct h buffers of their own per block; writing into y or h changes no later block`, () => {
      const keys = Array.from({ length: 40 }, (_, k) => `k${k}`);
      const xs = blocks(keys, 6);
      const clean = run(engine, keys, xs, false, 'all');
      const scribbled = run(engine, keys, xs, true, 'all');
      expect(clean.hs.length).toBe(6);
      expect(scribbled.ys).toEqual(clean.ys);
      expect(scribbled.hs).toEqual(clean.hs);
      expect(new Set(clean.outs.map((o) => o.h?.buffer)).size).toBe(6);
      for (const o of clean.outs) {
        const h = o.h as Float32Array;
        expect(h.length).toBe(keys.length * H);
        expect(h.byteOffset).toBe(0);
        expect(h.buffer.byteLength).toBe(h.byteLength);
        expect(o.y.buffer).not.toBe(h.buffer);
      }
      expect(clean.hs[5]).not.toEqual(clean.hs[4]);
    });
  }
});
