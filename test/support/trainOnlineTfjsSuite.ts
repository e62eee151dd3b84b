import * as tf from '@tensorflow/tfjs';
import { concat, from, NEVER, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adam } from '../../src/training/index.js';
import { RecurrentModel, seededRandom, type CellKind } from '../../src/cells/index.js';
import { trainOnline, type TrainEvent } from '../../src/streams/index.js';
import { modelTensors } from '../../src/tensors/index.js';

const rand = seededRandom(21);
const events = Array.from({ length: 30 }, () => ({ x: [rand() * 2 - 1, rand() * 2 - 1, rand() * 2 - 1], target: [rand(), rand()] }));

function run(cell: CellKind, engine: 'fused' | 'tfjs', layers: number): { events: TrainEvent[]; model: RecurrentModel } {
  const model = RecurrentModel.create({ cell, inputSize: 3, hiddenSize: 6, numLayers: layers, head: { outputSize: 2 }, seed: 4 });
  const out: TrainEvent[] = [];
  from(events)
    .pipe(trainOnline(model, { engine, k1: 4, k2: 7, optimizer: adam({ lr: 0.01 }), clipGradNorm: 1 }))
    .subscribe((e) => out.push(e));
  return { events: out, model };
}

/** trainOnline with engine 'tfjs' on the current backend: same learning as the fused engine, no tensor leaks. */
export function trainOnlineTfjsSuite(backend: string): void {
  describe(`trainOnline engine 'tfjs' on ${backend}`, () => {
    it.each([
      ['lstm', 2],
      ['gru', 1],
      ['rnn_relu', 1],
    ] as const)('%s with %i layer(s) learns like the fused engine, tensors flat', (cell, layers) => {
      const before = tf.memory().numTensors;
      const a = run(cell, 'tfjs', layers);
      a.model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const b = run(cell, 'fused', layers);
      expect(a.events.map((e) => e.kind)).toEqual(b.events.map((e) => e.kind));
      a.events.forEach((e, i) => {
        const f = b.events[i];
        if (e.kind === 'prediction' && f.kind === 'prediction') e.y.forEach((v, k) => expect(v).toBeCloseTo(f.y[k], 4));
        if (e.kind === 'update' && f.kind === 'update') {
          expect(e.loss).toBeCloseTo(f.loss, 4);
          expect(e.gradNorm).toBeCloseTo(f.gradNorm, 4);
        }
      });
    });

    it('frees its tensors on early unsubscribe and on a source error', () => {
      const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 6, head: { outputSize: 2 }, seed: 4 });
      modelTensors(model);
      const before = tf.memory().numTensors;
      const sub = concat(from(events), NEVER).pipe(trainOnline(model, { engine: 'tfjs', k1: 4 })).subscribe();
      sub.unsubscribe();
      let err: unknown;
      concat(from(events.slice(0, 9)), throwError(() => new Error('x')))
        .pipe(trainOnline(model, { engine: 'tfjs', k1: 4 }))
        .subscribe({ error: (e) => (err = e) });
      expect(err).toBeInstanceOf(Error);
      modelTensors(model); // weights changed: the cache rebuilds to the same count
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  });
}
