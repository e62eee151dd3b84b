/** Many keys train one shared model online while recurrentByKey() serves other keys from it. */
import { from, groupBy, mergeMap, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adam } from '../../src/training/index.js';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { recurrentByKey, trainOnline, type KeyedOutput, type TrainEvent } from '../../src/streams/index.js';

const KEYS = 8;
const EVENTS = 600;

/** Key k's stream: a sine of its own phase; the target is the next value. */
function keyedEvents() {
  const events: Array<{ key: number; x: number[]; target: number[] }> = [];
  for (let t = 0; t < EVENTS; t++) {
    for (let k = 0; k < KEYS; k++) {
      const v = (s: number) => Math.sin(s / 5 + k);
      events.push({ key: k, x: [v(t)], target: [v(t + 1)] });
    }
  }
  return events;
}

describe('many keys training one shared model', () => {
  it('per-key trainOnline streams (one shared optimizer) improve one model; recurrentByKey serves its new weights', () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 12, head: { outputSize: 1 }, seed: 5 });
    const optimizer = adam({ lr: 0.01 }); // one optimizer for the one set of weights
    const updates: number[] = [];

    // Serving: recurrentByKey on the same model (batches on the next microtask).
    const serve = new Subject<{ key: string; x: number[] }>();
    const served: KeyedOutput<string>[] = [];
    serve.pipe(recurrentByKey<string>(model, { maxWaitMs: 0 })).subscribe((o) => served.push({ ...o, y: o.y.slice() }));

    from(keyedEvents())
      .pipe(
        groupBy((e) => e.key),
        mergeMap((group) => group.pipe(trainOnline(model, { k1: 10, optimizer }))),
      )
      .subscribe((e: TrainEvent) => {
        if (e.kind === 'update') updates.push(e.loss);
      });
    // groupBy gives each key its own trainOnline subscription (own state), all updating `model`.
    expect(updates.length).toBe(KEYS * (EVENTS / 10));
    expect(model.version).toBeGreaterThanOrEqual(updates.length);
    const first = updates.slice(0, KEYS * 5);
    const last = updates.slice(-KEYS * 5);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(last)).toBeLessThan(mean(first) / 5);

    // A new key served now uses the trained weights: equal to a fresh per-key step with them.
    const r = seededRandom(1);
    const xs = Array.from({ length: 5 }, () => [r()]);
    return new Promise<void>((resolve) => {
      queueMicrotask(() => {
        for (const x of xs) serve.next({ key: 'fresh', x });
        setTimeout(() => {
          const state = model.createState();
          const expected = xs.map((x) => model.step(state, x)[0]);
          const got = served.filter((o) => o.key === 'fresh');
          expect(got.map((o) => o.modelVersion)).toEqual(xs.map(() => model.version));
          got.forEach((o, t) => expect(o.y[0]).toBeCloseTo(expected[t], 6));
          resolve();
        }, 10);
      });
    });
  });
});
