import { describe, expect, it } from 'vitest';
import { createWasmStepper } from '../../src/kernels/index.js';
import { FORWARD_FIXTURE_DIRS, fixtureStart, forwardFixtures } from '../support/forwardFixtures.js';

const DIRS = FORWARD_FIXTURE_DIRS;
if (DIRS.length === 0) console.warn('kernel fixture tests skipped: no ../shared/fixtures/pytorch or test/fixtures/pytorch here');

function expectClose(actual: number, ref: number, what: string): void {
  const err = Math.abs(actual - ref);
  if (!(err <= 1e-5 + 1e-4 * Math.abs(ref))) throw new Error(`${what}: ${actual} vs PyTorch ${ref} (|diff| ${err})`);
}

describe.skipIf(DIRS.length === 0)('WebAssembly SIMD kernel against PyTorch forward fixtures', () => {
  const forward = forwardFixtures();

  it('finds forward fixtures', () => expect(forward.length).toBeGreaterThan(0));

  it.each(forward.map(([f, fx]) => [f, fx] as const))('%s', (_file, fx) => {
    const { input_size: I, hidden_size: H, num_layers: L, batch_size: B, seq_len: T } = fx.config;
    const { model, state } = fixtureStart(fx);
    expect(model.config).toMatchObject({ inputSize: I, hiddenSize: H, numLayers: L });
    const O = model.head?.outputSize ?? 0;
    const y = new Float32Array(B * O);
    const stepper = createWasmStepper(model);
    expect(stepper?.kind).toBe('wasm-simd');
    const x = new Float32Array(B * I);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) x.set(fx.x[b][t], b * I);
      const top = stepper!.stepInPlace(state, x);
      if (fx.y) {
        stepper!.headInPlace(state, y);
        for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) expectClose(y[b * O + o], fx.y[b][t][o], `${fx.case} y[${b}][${t}][${o}]`);
      }
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          expectClose(top[b * H + j], fx.output[b][t][j], `${fx.case} output[${b}][${t}][${j}]`);
          if (fx.c_all && state.c) expectClose(state.c[L - 1][b * H + j], fx.c_all[b][t][j], `${fx.case} c_all[${b}][${t}][${j}]`);
        }
      }
    }
    for (let k = 0; k < L; k++) {
      fx.h_n[k].flat().forEach((v, i) => expectClose(state.h[k][i], v, `${fx.case} h_n[${k}] flat ${i}`));
      fx.c_n?.[k].flat().forEach((v, i) => expectClose((state.c as Float32Array[])[k][i], v, `${fx.case} c_n[${k}] flat ${i}`));
    }
  });
});
