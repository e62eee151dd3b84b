import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adam } from '../../src/training/index.js';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { trainOnline } from '../../src/streams/index.js';

describe('trainOnline learns what a memoryless model cannot', () => {
  it('recalls the input seen 5 events ago, far below the memoryless baseline, within 8000 events', () => {
    // Inputs are i.i.d. uniform in [-1, 1], the target is x[t-5]. Any model without memory sees
    // only x[t], independent of the target, so its best mean squared error is var(target) = 1/3.
    const D = 5;
    const N = 8000;
    const rand = seededRandom(7);
    const xs = Array.from({ length: N }, () => rand() * 2 - 1);
    const events = xs.map((x, t) => ({ x: [x], target: t >= D ? [xs[t - D]] : null }));
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 1, hiddenSize: 16, head: { outputSize: 1 }, seed: 3 });
    const losses: number[] = [];
    let updates = 0;
    from(events)
      .pipe(trainOnline(model, { k1: 8, k2: 16, optimizer: adam({ lr: 0.01 }) }))
      .subscribe((e) => {
        if (e.kind === 'prediction' && e.loss !== null) losses.push(e.loss);
        if (e.kind === 'update') updates++;
      });
    const targets = xs.slice(0, N - D);
    const mean = targets.reduce((a, b) => a + b, 0) / targets.length;
    const baseline = targets.reduce((a, b) => a + (b - mean) ** 2, 0) / targets.length;
    const avg = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    const first = avg(losses.slice(0, 500));
    const last = avg(losses.slice(-1000));
    expect(updates).toBe(N / 8);
    expect(first).toBeGreaterThan(0.8 * baseline); // it starts knowing nothing
    expect(last).toBeLessThan(0.1 * baseline); // and ends recalling the past (prequential loss: never trained on these events before predicting them)
  });
});
