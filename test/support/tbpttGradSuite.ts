import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createTbpttEngine, type LossKind } from '../../src/training/index.js';
import { RecurrentModel, seededRandom, type CellKind, type HeadActivation } from '../../src/cells/index.js';

/** Cases covering every cell, depth 1 and 2, every head activation and loss, k1 = k2 and k1 < k2, batch 2. */
export const GRAD_CASES: Array<{ cell: CellKind; layers: number; head: HeadActivation | null; loss: LossKind; k1: number; k2: number }> = [
  { cell: 'lstm', layers: 2, head: 'identity', loss: 'mse', k1: 3, k2: 5 },
  { cell: 'gru', layers: 2, head: 'softmax', loss: 'cross_entropy', k1: 4, k2: 4 },
  { cell: 'rnn_tanh', layers: 2, head: 'sigmoid', loss: 'binary_cross_entropy', k1: 2, k2: 5 },
  { cell: 'rnn_relu', layers: 1, head: 'identity', loss: 'cross_entropy', k1: 4, k2: 6 },
  { cell: 'lstm', layers: 1, head: 'sigmoid', loss: 'mse', k1: 4, k2: 4 },
  { cell: 'gru', layers: 1, head: 'identity', loss: 'binary_cross_entropy', k1: 3, k2: 4 },
  { cell: 'lstm', layers: 2, head: 'softmax', loss: 'mse', k1: 2, k2: 3 },
  { cell: 'gru', layers: 2, head: null, loss: 'mse', k1: 3, k2: 3 },
];

/** Runs `steps` events through an engine and returns the gradients of every window. */
export function windowGrads(kind: 'fused' | 'tfjs', c: (typeof GRAD_CASES)[number], steps = 12): { losses: number[]; grads: Float64Array[][] } {
  const model = RecurrentModel.create({ cell: c.cell, inputSize: 3, hiddenSize: 4, numLayers: c.layers, head: c.head ? { outputSize: 3, activation: c.head } : null, seed: 5 });
  const B = 2;
  const O = c.head ? 3 : 4;
  const engine = createTbpttEngine(model, kind, { k1: c.k1, k2: c.k2, loss: c.loss, batch: B });
  const rand = seededRandom(9);
  const y = new Float32Array(B * O);
  const out = { losses: [] as number[], grads: [] as Float64Array[][] };
  try {
    for (let t = 0; t < steps; t++) {
      const x = Array.from({ length: B * 3 }, () => rand() * 2 - 1);
      const target = Array.from({ length: B * O }, () => rand());
      if (c.loss === 'cross_entropy') for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) target[b * O + o] = o === t % O ? 1 : 0;
      // every fifth step has no target: it must still advance the state and sit in the window
      engine.step(x, t % 5 === 4 ? null : target, y);
      if (engine.windowDue()) {
        const grads = model.parameters().map((p) => new Float64Array(p.data.length));
        const w = engine.backward(grads);
        out.losses.push(w.loss);
        out.grads.push(grads);
        // move the weights a little so later windows run with changed weights (re-run path for k1 < k2)
        model.updateParameters((ps) => {
          let i = 0;
          for (const p of ps.values()) {
            const g = grads[i++];
            for (let k = 0; k < p.data.length; k++) p.data[k] -= 0.5 * g[k];
          }
        });
      }
    }
  } finally {
    engine.dispose();
    model.dispose();
  }
  return out;
}

/** The hand-derived gradients (float64) equal tfjs autograd's (float32) on the current backend. */
export function gradParitySuite(backend: string): void {
  describe(`hand-derived BPTT equals tfjs autograd on ${backend}`, () => {
    it.each(GRAD_CASES.map((c) => [`${c.cell} L${c.layers} ${c.head} ${c.loss} k1=${c.k1} k2=${c.k2}`, c] as const))('%s', (_name, c) => {
      const before = tf.memory().numTensors;
      const fused = windowGrads('fused', c);
      const tfjs = windowGrads('tfjs', c);
      expect(tf.memory().numTensors).toBe(before);
      expect(fused.losses.length).toBeGreaterThan(1);
      expect(tfjs.losses.length).toBe(fused.losses.length);
      fused.losses.forEach((l, w) => {
        expect(Math.abs(l - tfjs.losses[w])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(l));
        fused.grads[w].forEach((g, i) =>
          g.forEach((v, k) => {
            const ref = tfjs.grads[w][i][k];
            if (!(Math.abs(v - ref) <= 1e-5 + 1e-4 * Math.abs(v))) throw new Error(`window ${w} param ${i}[${k}]: fused ${v} vs tfjs ${ref}`);
          }),
        );
      });
    });
  });
}
