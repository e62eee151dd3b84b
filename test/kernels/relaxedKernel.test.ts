import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { GatesKernel, gatesKernelModule, gatesKernelVariant } from '../../src/kernels/gatesKernel.js';
import { gatesKernelRelaxedBase64 } from '../../src/kernels/gatesKernelRelaxed.wasm.js';
import { kernelModule } from '../../src/kernels/kernelModule.js';
import { gatesKernelShapeOf } from '../../src/kernels/wasmStepper.js';
import { fixtureStart, forwardFixtures } from '../support/forwardFixtures.js';

// The relaxed-SIMD build of the step kernel (fused multiply-add): the runtime picks it where it
// compiles (Node 22+; Node 20 with --experimental-wasm-relaxed-simd, set here in-process before
// anything compiles, this file runs in its own fork). Verified by the same PyTorch fixtures as
// the SIMD128 build, and batch-invariant, so keyed crash replay stays bit-exact within it.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const relaxed = kernelModule(gatesKernelRelaxedBase64);
if (!relaxed && process.env.CI === 'true') throw new Error('the relaxed-SIMD kernel must compile on Node 20 with --experimental-wasm-relaxed-simd');
if (!relaxed) console.warn('relaxed-SIMD kernel tests skipped: this runtime cannot compile relaxed SIMD');

const forward = forwardFixtures().map(([, fx]) => fx);

function close(actual: number, ref: number, what: string): void {
  const err = Math.abs(actual - ref);
  if (!(err <= 1e-5 + 1e-4 * Math.abs(ref))) throw new Error(`${what}: ${actual} vs PyTorch ${ref} (|diff| ${err})`);
}

describe.skipIf(!relaxed)('relaxed-SIMD step kernel', () => {
  it('is the variant the runtime picks once it compiles', () => {
    expect(gatesKernelModule()).toBe(relaxed);
    expect(gatesKernelVariant()).toBe('relaxed-simd');
  });

  it('matches every PyTorch forward fixture', () => {
    expect(forward.length).toBeGreaterThan(0);
    for (const fx of forward) {
      const { input_size: I, hidden_size: H, num_layers: L, batch_size: B, seq_len: T } = fx.config;
      const { model, state } = fixtureStart(fx);
      const kernel = new GatesKernel(relaxed as WebAssembly.Module, gatesKernelShapeOf(model));
      kernel.setWeights(model.layers);
      const x = new Float32Array(B * I);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) x.set(fx.x[b][t], b * I);
        kernel.stepRows(x, state.h, state.c, 0, B);
        for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) close(state.h[L - 1][b * H + j], fx.output[b][t][j], `${fx.case} output[${b}][${t}][${j}]`);
      }
    }
  });

  it('gives every row the same bits in any batch, stepped in place or by index', () => {
    for (const cell of ['lstm', 'gru', 'rnn_tanh'] as const) {
      const model = RecurrentModel.create({ cell, inputSize: 6, hiddenSize: 13, numLayers: 2, seed: 4 });
      const rnd = seededRandom(9);
      const B = 37;
      const x = Float32Array.from({ length: B * 6 }, () => rnd() * 2 - 1);
      const batch = new GatesKernel(relaxed as WebAssembly.Module, gatesKernelShapeOf(model));
      batch.setWeights(model.layers);
      const all = model.createState(B);
      batch.stepRows(x, all.h, all.c, 0, B);
      const resident = new GatesKernel(relaxed as WebAssembly.Module, gatesKernelShapeOf(model));
      resident.setWeights(model.layers);
      resident.reserveResident(B, B);
      const order = Int32Array.from({ length: B }, (_, j) => (j * 7) % B);
      const xs = new Float32Array(B * 6);
      order.forEach((row, j) => xs.set(x.subarray(row * 6, row * 6 + 6), j * 6));
      resident.stepResident(order, B, xs);
      const top = resident.f32;
      for (let r = 0; r < B; r++) {
        const one = model.createState(1);
        const alone = new GatesKernel(relaxed as WebAssembly.Module, gatesKernelShapeOf(model));
        alone.setWeights(model.layers);
        alone.stepRows(x.subarray(r * 6, r * 6 + 6), one.h, one.c, 0, 1);
        const want = Array.from(new Uint32Array(one.h[1].buffer));
        expect(Array.from(new Uint32Array(all.h[1].slice(r * 13, r * 13 + 13).buffer)), `${cell} row ${r} in a batch`).toEqual(want);
        const at = resident.hAt(1) + r * resident.rowStride;
        expect(Array.from(new Uint32Array(top.slice(at, at + 13).buffer)), `${cell} row ${r} by index`).toEqual(want);
      }
    }
  });
});
