import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/index.js';
import { adam, sgd } from '../../src/training/index.js';
import { encodeDataset, type LabelledSequence } from '../../src/training/labelledSequence.js';
import { createSequenceBatchRunner } from '../../src/training/sequenceBatchRunner.js';
import { train, type TrainProgress } from '../../src/training/train.js';
import { codeOf } from '../support/errors.js';
import { flat } from '../tools/fixtureSchema.js';
import { torchPythonFor } from '../support/prerequisites.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = JSON.parse(readFileSync(join(root, 'test/fixtures/training/batched_masked_grads.json'), 'utf8'));

describe('train(): gradients of the batched, masked loss match PyTorch', () => {
  for (const fx of fixture.cases) {
    for (const kernel of ['js', 'auto'] as const) {
      it(`${fx.case} (${kernel} kernel)`, () => {
        const model = RecurrentModel.fromParameters(fx.config, fx.params);
        const seqs = encodeDataset(model, fx.sequences as LabelledSequence[], fx.loss, fx.class_weights);
        const longest = Math.max(...seqs.map((s) => s.length));
        const chunk = fx.bptt === 'full' ? longest : fx.bptt;
        const runner = createSequenceBatchRunner(model, { batchSize: seqs.length + 1, chunkCapacity: chunk, loss: fx.loss, kernel });
        const grads = model.parameters().map((p) => new Float64Array(p.data.length));
        const seen: { start: number; rows: number; loss: number; grads: Float64Array[] }[] = [];
        runner.run(seqs, chunk, grads, (r) => seen.push({ start: r.start, rows: r.rows, loss: r.loss, grads: grads.map((g) => g.slice()) }));
        expect(seen.map((s) => s.start)).toEqual(fx.chunks.map((c: { start: number }) => c.start));
        let worst = 0;
        seen.forEach((s, i) => {
          const ref = fx.chunks[i];
          expect(s.rows).toBe(ref.rows);
          if (ref.rows === 0) return;
          expect(Math.abs(s.loss - ref.loss)).toBeLessThan(1e-12);
          model.parameters().forEach((p, k) => {
            const want = flat(ref.grads[p.name]);
            for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(s.grads[k][j] - want[j]));
          });
        });
        expect(worst).toBeLessThan(1e-12);
      });
    }
  }
});

const python = torchPythonFor('tools/make_train_fixture.py --check');
describe.skipIf(!python)('tools/make_train_fixture.py', () => {
  it('--check regenerates the committed fixture', () => {
    const res = spawnSync(python!, [join(root, 'tools/make_train_fixture.py'), '--check'], { encoding: 'utf8' });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('SAME');
  });
});

/** Two classes of generated sequences: a rising or a falling ramp with noise, of varied length. */
function ramps(n: number, seed: number, perFrame: boolean): LabelledSequence[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: n }, (_, i) => {
    const cls = i % 2;
    const T = 6 + Math.floor(rand() * 10);
    const x = Array.from({ length: T }, (_, t) => [(cls ? t : T - t) / T + (rand() - 0.5) * 0.3, rand() - 0.5]);
    return perFrame ? { x, frameTargets: x.map((_, t) => (t < 2 ? null : cls)) } : { x, target: cls };
  });
}

describe('train()', () => {
  const make = (head: 'softmax' | 'sigmoid' = 'softmax', cell: 'gru' | 'lstm' = 'gru') =>
    RecurrentModel.create({ cell, inputSize: 2, hiddenSize: 8, head: { outputSize: head === 'softmax' ? 2 : 1, activation: head }, seed: 5 });

  it('learns to separate two generated classes (sequence classification), and reports progress', () => {
    const model = make();
    const events: TrainProgress[] = [];
    const res = train(model, ramps(80, 1, false), { epochs: 25, batchSize: 8, optimizer: adam({ lr: 0.02 }), validationSplit: 0.25, monitor: 'accuracy', patience: 25, onProgress: (e) => events.push(e) });
    expect(res.trainSequences).toBe(60);
    expect(res.validationSequences).toBe(20);
    expect(res.bestValidation!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(res.history[0].trainLoss).toBeGreaterThan(res.history.at(-1)!.trainLoss);
    expect(events.filter((e) => e.kind === 'batch')).toHaveLength(25 * 8);
    expect(events.filter((e) => e.kind === 'epoch').map((e) => e.epoch)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('tags frames with truncated BPTT and a sigmoid head, class weights balanced', () => {
    const model = make('sigmoid', 'lstm');
    const res = train(model, ramps(60, 2, true), { epochs: 15, batchSize: 6, bptt: 4, optimizer: adam({ lr: 0.02 }), classWeights: 'balanced', validationSplit: 0.2, patience: 15 });
    expect(res.bestValidation!.f1).toBeGreaterThan(0.85);
    // TBPTT: one update per chunk of 4 steps, so more updates than batches
    expect(res.updates).toBeGreaterThan(15 * Math.ceil(48 / 6));
  });

  it('is deterministic: same seed, same weights; another seed, other weights', () => {
    const run = (seed: number) => {
      const model = make();
      train(model, ramps(30, 3, false), { epochs: 3, batchSize: 4, seed });
      return JSON.stringify(model.toJSON().params);
    };
    expect(run(7)).toBe(run(7));
    expect(run(7)).not.toBe(run(8));
  });

  it('early stopping keeps the best epoch and puts its weights back', () => {
    const model = make();
    const data = ramps(40, 4, false);
    // sgd with a huge rate diverges after the first epochs: validation loss gets worse
    const snapshots: string[] = [];
    const res = train(model, data, {
      epochs: 30, batchSize: 4, optimizer: sgd({ lr: 40 }), clipGradNorm: null, patience: 2, validationSplit: 0.5,
      onProgress: (e) => { if (e.kind === 'epoch') snapshots.push(JSON.stringify(model.toJSON().params)); },
    });
    const bestRecord = res.history.find((h) => h.epoch === res.bestEpoch)!;
    expect(bestRecord.best).toBe(true);
    expect(res.history.every((h) => h.validation!.loss >= bestRecord.validation!.loss)).toBe(true);
    if (res.stoppedEarly) expect(res.history.length).toBe(res.bestEpoch + 2);
    expect(JSON.stringify(model.toJSON().params)).toBe(snapshots[res.bestEpoch - 1]);
  });

  it('rejects bad data and options with codes', () => {
    const model = make();
    expect(codeOf(() => train(model, []))).toBe('SEQ_TRAIN_EMPTY');
    expect(codeOf(() => train(model, [{ x: [[1, 2, 3]], target: 0 }]))).toBe('SEQ_INPUT_SHAPE');
    expect(codeOf(() => train(model, [{ x: [[1, NaN]], target: 0 }]))).toBe('SEQ_INPUT_NON_FINITE');
    expect(codeOf(() => train(model, [{ x: [[1, 2]], target: 2 }]))).toBe('SEQ_TARGET_RANGE');
    expect(codeOf(() => train(model, [{ x: [[1, 2]], frameTargets: [0, 1] }]))).toBe('SEQ_TARGET_SHAPE');
    expect(codeOf(() => train(model, [{ x: [[1, 2]], frameTargets: [null] }]))).toBe('SEQ_TRAIN_EMPTY');
    expect(codeOf(() => train(model, [{ x: [[1, 2]], target: 0 }], { loss: 'binary_cross_entropy' }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => train(model, [{ x: [[1, 2]], target: 0 }], { bptt: 0 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => train(model, [{ x: [[1, 2]], target: 0 }], { classWeights: [1] }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => train(model, [{ x: [[1, 2]], target: 0 }], { validationSplit: 1 }))).toBe('SEQ_INVALID_OPTION');
  });
});
