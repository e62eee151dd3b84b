import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStateDict, type CellKind, type HeadActivation } from '../../src/cells/index.js';
import { createWasmStepper } from '../../src/kernels/index.js';

type Nested = number | Nested[];
interface ForwardFixture {
  case: string;
  config: { cell: CellKind; input_size: number; hidden_size: number; num_layers: number; batch_size: number; seq_len: number; head_activation?: HeadActivation };
  params: Record<string, Nested>;
  x: number[][][];
  h0: number[][][];
  c0?: number[][][];
  output: number[][][];
  h_n: number[][][];
  c_n?: number[][][];
  c_all?: number[][][];
  y?: number[][][];
  windows?: unknown;
}

const DIRS = ['../shared/fixtures/pytorch', 'test/fixtures/pytorch'].filter((d) => existsSync(d));
const files = DIRS.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
if (DIRS.length === 0) console.warn('kernel fixture tests skipped: no ../shared/fixtures/pytorch or test/fixtures/pytorch here');

function expectClose(actual: number, ref: number, what: string): void {
  const err = Math.abs(actual - ref);
  if (!(err <= 1e-5 + 1e-4 * Math.abs(ref))) throw new Error(`${what}: ${actual} vs PyTorch ${ref} (|diff| ${err})`);
}

describe.skipIf(DIRS.length === 0)('WebAssembly SIMD kernel against PyTorch forward fixtures', () => {
  const forward = files
    .map((f) => [f, JSON.parse(readFileSync(f, 'utf8')) as ForwardFixture] as const)
    .filter(([, fx]) => fx.windows === undefined && Array.isArray(fx.output));

  it('finds forward fixtures', () => expect(forward.length).toBeGreaterThan(0));

  it.each(forward.map(([f, fx]) => [f, fx] as const))('%s', (_file, fx) => {
    const { cell, input_size: I, hidden_size: H, num_layers: L, batch_size: B, seq_len: T } = fx.config;
    const model = loadStateDict(fx.params, { cell, nonlinearity: cell === 'rnn_relu' ? 'relu' : 'tanh', headActivation: fx.config.head_activation });
    expect(model.config).toMatchObject({ inputSize: I, hiddenSize: H, numLayers: L });
    const O = model.head?.outputSize ?? 0;
    const y = new Float32Array(B * O);
    const stepper = createWasmStepper(model);
    expect(stepper?.kind).toBe('wasm-simd');
    const state = model.createState(B);
    for (let k = 0; k < L; k++) {
      state.h[k].set(fx.h0[k].flat());
      if (state.c && fx.c0) state.c[k].set(fx.c0[k].flat());
    }
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
