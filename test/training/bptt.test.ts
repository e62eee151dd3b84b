import { describe, expect, it } from 'vitest';
import { createFusedTbpttEngine } from '../../src/training/index.js';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { GRAD_CASES } from '../support/tbpttGradSuite.js';

/**
 * Central finite differences of the window loss, in float64, against the hand-derived gradient.
 * Parameters are float32, so each probe moves a weight by an exactly representable step.
 */
describe('backwardWindow matches finite differences', () => {
  it.each(GRAD_CASES.map((c) => [`${c.cell} L${c.layers} ${c.head} ${c.loss}`, c] as const))('%s', (_name, c) => {
    const model = RecurrentModel.create({ cell: c.cell, inputSize: 3, hiddenSize: 4, numLayers: c.layers, head: c.head ? { outputSize: 3, activation: c.head } : null, seed: 5 });
    const O = c.head ? 3 : 4;
    const rand = seededRandom(4);
    const n = c.k2 + 2; // longer than the window: truncation must cut the first steps off
    const xs = Array.from({ length: n }, () => Array.from({ length: 3 }, () => rand() * 2 - 1));
    const ts = Array.from({ length: n }, (_, t) => Array.from({ length: O }, (_, o) => (c.loss === 'cross_entropy' ? (o === t % O ? 1 : 0) : rand())));
    const windowLoss = (grads: Float64Array[] | null): number => {
      // The window must start at the (fixed) initial state, since finite differences cannot see
      // truncation: k2 is rounded up to a multiple of k1 and exactly k2 steps run; the loss still
      // covers only the last k1 of them.
      const k2 = Math.ceil(c.k2 / c.k1) * c.k1;
      const engine = createFusedTbpttEngine(model, { k1: c.k1, k2, loss: c.loss });
      engine.reset(model.layers.map(() => [0.1, -0.2, 0.3, 0.05]), model.cellDefinition.hasCellState ? model.layers.map(() => [0.2, 0.1, -0.3, 0.4]) : null);
      const y = new Float32Array(O);
      for (let t = 0; t < k2; t++) engine.step(xs[t % n], t % 5 === 3 ? null : ts[t % n], y);
      const g = grads ?? model.parameters().map((p) => new Float64Array(p.data.length));
      return engine.backward(g).loss;
    };
    const grads = model.parameters().map((p) => new Float64Array(p.data.length));
    windowLoss(grads);
    let checked = 0;
    model.parameters().forEach((p, i) => {
      for (let k = 0; k < p.data.length; k += 3) {
        const orig = p.data[k];
        const up = Math.fround(orig + 1e-3);
        const down = Math.fround(orig - 1e-3);
        p.data[k] = up;
        const lUp = windowLoss(null);
        p.data[k] = down;
        const lDown = windowLoss(null);
        p.data[k] = orig;
        const fd = (lUp - lDown) / (up - down);
        expect(Math.abs(fd - grads[i][k])).toBeLessThanOrEqual(2e-5 + 2e-3 * Math.abs(fd));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(10);
  });
});
