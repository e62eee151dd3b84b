import { describe, expect, it } from 'vitest';
import { RecurrentModel, type CellKind } from '../../src/cells/index.js';
import { createWasmStepper } from '../../src/kernels/index.js';

// The step kernel's float32 sigmoid and tanh (gatesKernel.c: exp_n, sigmoid_n, tanh_n), checked
// one pre-activation per hidden unit against float64 Math over a dense sweep and the edges of
// every branch: the exp clamp (|x| near 87/88 and 44 for tanh's exp(2|x|)), the round-to-nearest
// trick (x * log2 e near n + 1/2), tanh's switch between its two formulas at |x| = 0.625, and
// infinities and NaN.

/** Pre-activations: a grid over [-100, 100] plus the edges named above. */
function preactivations(): Float32Array {
  const v: number[] = [];
  for (let k = -2000; k <= 2000; k++) v.push(k * 0.05);
  for (const edge of [0.625, 43.5, 44, 44.5, 87, 87.5, 88, 88.5, 89, 103]) {
    const f = Math.fround(edge);
    for (const s of [-1, 1]) v.push(s * f, s * (f + f * 2 ** -23), s * (f - f * 2 ** -23));
  }
  for (let n = -126; n <= 126; n++) v.push((n + 0.5) / Math.LOG2E, -(n + 0.5) / Math.LOG2E / 2);
  v.push(0, -0, 1e-30, -1e-30, Infinity, -Infinity, NaN);
  return Float32Array.from(v);
}

/**
 * One step of single-layer models whose unit j sees exactly `pre[j]` at the gate `gate` (I = 1,
 * x = 1, every other weight 0), in chunks of 100 units (W_hh is H x H).
 */
function step(cell: CellKind, pre: Float32Array, gate: number, biases: Record<number, number>): { h: Float32Array; c: Float32Array } {
  const h = new Float32Array(pre.length);
  const c = new Float32Array(pre.length);
  for (let at = 0; at < pre.length; at += 100) {
    const chunk = pre.subarray(at, at + 100);
    const H = chunk.length;
    const model = RecurrentModel.create({ cell, inputSize: 1, hiddenSize: H, seed: 3 });
    model.updateParameters((params) => {
      for (const p of params.values()) p.data.fill(0);
      const { weightIh, biasIh } = model.layers[0];
      weightIh.set(chunk, gate * H);
      for (const [g, b] of Object.entries(biases)) biasIh.fill(b, Number(g) * H, (Number(g) + 1) * H);
    });
    const state = model.createState(1);
    const stepper = createWasmStepper(model);
    expect(stepper).not.toBeNull();
    stepper!.stepInPlace(state, [1]);
    h.set(state.h[0], at);
    if (state.c) c.set(state.c[0], at);
  }
  return { h, c };
}

function expectNear(got: Float32Array, want: (x: number) => number, pre: Float32Array, what: string): void {
  let worst = 0;
  for (let j = 0; j < pre.length; j++) {
    const ref = want(pre[j]);
    if (Number.isNaN(ref)) {
      expect(Number.isNaN(got[j]), `${what}(${pre[j]}) is NaN`).toBe(true);
      continue;
    }
    const err = Math.abs(got[j] - ref);
    worst = Math.max(worst, err / (1e-7 + Math.abs(ref)));
    if (!(err <= 2e-7 + 1e-6 * Math.abs(ref))) throw new Error(`${what}(${pre[j]}) = ${got[j]}, float64 gives ${ref} (|diff| ${err})`);
  }
  expect(worst).toBeLessThan(10);
}

describe('step kernel nonlinearities (float32) against float64', () => {
  const pre = preactivations();

  it('tanh (an RNN unit: h = tanh(pre))', () => {
    const { h } = step('rnn_tanh', pre, 0, {});
    expectNear(h, Math.tanh, pre, 'tanh');
    expect(h[pre.indexOf(Infinity)]).toBe(1);
    expect(h[pre.indexOf(-Infinity)]).toBe(-1);
  });

  it('sigmoid (an LSTM input gate: with g and o saturated, c = sigmoid(pre))', () => {
    // Gates in PyTorch order i, f, g, o: i sees pre, f is 0 (c starts at 0 anyway), g and o get bias 20.
    const { c, h } = step('lstm', pre, 0, { 2: 20, 3: 20 });
    expectNear(c, (x) => 1 / (1 + Math.exp(-x)), pre, 'sigmoid');
    expect(c[pre.indexOf(Infinity)]).toBe(1);
    expect(c[pre.indexOf(-Infinity)]).toBeLessThan(1e-37); // exp's argument is clamped to [-87, 88]
    // and the state update on top: h = sigmoid(20) * tanh(c)
    const o = 1 / (1 + Math.exp(-20));
    expectNear(h, (x) => o * Math.tanh(1 / (1 + Math.exp(-x))), pre, 'o * tanh(c)');
  });
});
