import { describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/model.js';
import { seededRandom } from '../../src/cells/random.js';
import { createFusedTbpttEngine } from '../../src/training/fusedTbpttEngine.js';
import { learnWindow } from '../../src/training/learnWindow.js';
import { adam } from '../../src/training/optimizers/adam.js';

/** Steps keys in turn (interleaved, as a keyed operator does), learning every window; returns every key's outputs and final weights. */
function run(compact: boolean, cell: 'gru' | 'lstm', keys: number, steps: number) {
  const rnd = seededRandom(7);
  const learners = Array.from({ length: keys }, (_, k) => {
    const model = RecurrentModel.create({ cell, inputSize: 3, hiddenSize: 5, head: { outputSize: 1 }, seed: k + 1 });
    const engine = createFusedTbpttEngine(model, { k1: 4, k2: 4, loss: 'mse', kernel: 'js', compact });
    return { model, engine, optimizer: adam({ lr: 0.05 }), grads: model.parameters().map((p) => new Float64Array(p.data.length)), ys: [] as number[] };
  });
  const y = new Float32Array(1);
  for (let t = 0; t < steps; t++)
    for (const l of learners) {
      const x = [rnd(), rnd() - 0.5, rnd() * 2];
      l.engine.step(x, [x[0] - x[1]], y);
      l.ys.push(y[0]);
      if (l.engine.windowDue()) learnWindow(l.model, l.engine, l.grads, { optimizer: l.optimizer, clipGradNorm: 1 });
    }
  return learners.map((l) => ({ ys: l.ys, weights: l.model.parameters().map((p) => Array.from(p.data)) }));
}

describe('compact fused engine (shared window buffers, one slab per engine)', () => {
  for (const cell of ['gru', 'lstm'] as const)
    it(`gives bit-identical outputs and weights to separate engines, keys interleaved (${cell})`, () => {
      const separate = run(false, cell, 3, 40);
      const compact = run(true, cell, 3, 40);
      expect(compact).toEqual(separate);
      // The keys did learn (different seeds, different weights): sharing did not mix them up.
      expect(compact[0].weights).not.toEqual(compact[1].weights);
      expect(compact[0].weights).not.toEqual(run(true, cell, 1, 1)[0].weights);
    });
});
