import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY, from, NEVER, Subject, throwError, concat, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adam, learnWindow, createFusedTbpttEngine, sgd, type Optimizer } from '../../src/training/index.js';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/adapters/checkpointFile.js';
import { recurrent, trainOnline, type TrainEvent, type TrainUpdate } from '../../src/streams/index.js';

const make = (seed = 1) => RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 5, head: { outputSize: 1 }, seed });
const rand = seededRandom(11);
const events = Array.from({ length: 40 }, () => ({ x: [rand() * 2 - 1, rand() * 2 - 1], target: [rand()] }));

function collect<T>(obs: import('rxjs').Observable<T>): { values: T[]; error: any; completed: boolean } {
  const out = { values: [] as T[], error: undefined as any, completed: false };
  obs.subscribe({ next: (v) => out.values.push(v), error: (e) => (out.error = e), complete: () => (out.completed = true) });
  return out;
}

describe('trainOnline', () => {
  it('completes without output on an empty source', () => {
    const model = make();
    const r = collect(EMPTY.pipe(trainOnline(model)));
    expect(r).toEqual({ values: [], error: undefined, completed: true });
    expect(model.version).toBe(0);
  });

  it('predicts one event with the untouched weights (prequential), no update before k1 events', () => {
    const model = make();
    const expected = make().step(make().createState(), events[0].x);
    const r = collect(of(events[0]).pipe(trainOnline(model, { k1: 4 })));
    expect(r.values).toHaveLength(1);
    const p = r.values[0] as Extract<TrainEvent, { kind: 'prediction' }>;
    expect(p.kind).toBe('prediction');
    expect(p.step).toBe(0);
    expect(p.y[0]).toBeCloseTo(expected[0], 6);
    expect(p.loss).toBeCloseTo((expected[0] - events[0].target[0]) ** 2, 6);
    expect(model.version).toBe(0);
  });

  it('emits every prediction before its update, one update per k1 events, with telemetry', () => {
    const model = make();
    const r = collect(from(events).pipe(trainOnline(model, { k1: 8, k2: 12, optimizer: sgd({ lr: 0.05 }), clipGradNorm: 0.01 })));
    expect(r.completed).toBe(true);
    const kinds = r.values.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'prediction')).toHaveLength(40);
    const updates = r.values.filter((e): e is TrainUpdate => e.kind === 'update');
    expect(updates.map((u) => u.step)).toEqual([7, 15, 23, 31, 39]);
    updates.forEach((u) => {
      const i = r.values.indexOf(u);
      expect(r.values[i - 1]).toMatchObject({ kind: 'prediction', step: u.step });
      expect(u.lr).toBe(0.05);
      expect(u.loss).toBeGreaterThan(0);
      expect(u.gradNorm).toBeGreaterThan(0);
      expect(u.clipped).toBe(u.gradNorm > 0.01);
      expect(u.windowLength).toBe(Math.min(12, u.step + 1));
      expect(u.windowStart).toBe(u.step + 1 - u.windowLength);
    });
    expect(updates.map((u) => u.update)).toEqual([1, 2, 3, 4, 5]);
    expect(model.version).toBe(5);
  });

  it('does exactly the engine loop: same weights as stepping createFusedTbpttEngine + learnWindow by hand', () => {
    const a = make();
    collect(from(events).pipe(trainOnline(a, { k1: 5, k2: 9, optimizer: adam({ lr: 0.02 }) })));
    const b = make();
    const engine = createFusedTbpttEngine(b, { k1: 5, k2: 9, loss: 'mse' });
    const opt = adam({ lr: 0.02 });
    const grads = b.parameters().map((p) => new Float64Array(p.data.length));
    const y = new Float32Array(1);
    for (const e of events) {
      engine.step(e.x, e.target, y);
      if (engine.windowDue()) learnWindow(b, engine, grads, { optimizer: opt, clipGradNorm: null });
    }
    expect(a.toJSON()).toEqual(b.toJSON());
  });

  it('events without a target add no loss but advance the state; no targets at all means no update', () => {
    const model = make();
    const bare = events.map((e) => ({ x: e.x }));
    const r = collect(from(bare).pipe(trainOnline(model, { k1: 4 })));
    expect(r.values.every((e) => e.kind === 'prediction' && e.loss === null)).toBe(true);
    expect(model.version).toBe(0);
    // the state advanced: predictions equal a plain forward run
    const ref = make();
    const st = ref.createState();
    bare.forEach((e, t) => expect((r.values[t] as any).y[0]).toBeCloseTo(ref.step(st, e.x)[0], 6));
    // mixed: updates happen and their loss counts only the labelled steps
    const m2 = make();
    const mixed = events.map((e, t) => (t % 2 ? { x: e.x } : e));
    const r2 = collect(from(mixed).pipe(trainOnline(m2, { k1: 4 })));
    expect(r2.values.filter((e) => e.kind === 'update')).toHaveLength(10);
  });

  it('self-supervised: learns x[t+1] from x[t], the same as giving that target explicitly', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, head: { outputSize: 2 }, seed: 2 });
    const xs = events.map((e) => e.x);
    const self = collect(from(xs).pipe(trainOnline(model, { k1: 8, selfSupervised: true, optimizer: sgd({ lr: 0.1 }) })));
    const twin = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, head: { outputSize: 2 }, seed: 2 });
    const labelled = xs.slice(0, -1).map((x, t) => ({ x, target: xs[t + 1] }));
    const sup = collect(from(labelled).pipe(trainOnline(twin, { k1: 8, optimizer: sgd({ lr: 0.1 }) })));
    // 40 events: windows after events 7, 15, 23, 31 learn at the next event; 39's target never comes
    expect(self.values.filter((e) => e.kind === 'update')).toHaveLength(4);
    expect(sup.values.filter((e) => e.kind === 'update')).toHaveLength(4);
    expect(model.toJSON()).toEqual(twin.toJSON());
    const preds = (v: TrainEvent[]) => v.filter((e) => e.kind === 'prediction').map((e: any) => Array.from(e.y));
    expect(preds(self.values).slice(0, 39)).toEqual(preds(sup.values));
    expect(self.values.every((e) => e.kind !== 'prediction' || e.loss === null)).toBe(true);
  });

  it('a non-finite loss skips the update, resets the state, reports it, and the stream goes on', () => {
    const model = make();
    let calls = 0;
    const poison: Optimizer = {
      type: 'sgd',
      lr: 0.1,
      steps: 0,
      step(params) {
        calls++;
        params[params.length - 1].data[0] = NaN; // head.bias
      },
      toJSON: () => sgd().toJSON(),
    };
    const r = collect(from(events).pipe(trainOnline(model, { k1: 8, optimizer: poison })));
    expect(r.completed).toBe(true);
    expect(r.error).toBeUndefined();
    expect(calls).toBe(1);
    const skips = r.values.filter((e) => e.kind === 'skip');
    expect(skips).toHaveLength(4);
    expect(skips[0]).toMatchObject({ kind: 'skip', step: 15, reason: 'non_finite', stateReset: true });
    expect(r.values.filter((e) => e.kind === 'prediction')).toHaveLength(40);
  });

  it('shares weights live: recurrent() on the same model uses the updated weights from its next step', () => {
    const model = make();
    const trainIn = new Subject<{ x: number[]; target: number[] }>();
    const serveIn = new Subject<number[]>();
    const served: number[] = [];
    collect(trainIn.pipe(trainOnline(model, { k1: 4, optimizer: sgd({ lr: 0.5 }) })));
    serveIn.pipe(recurrent(model)).subscribe((y) => served.push((y as Float32Array)[0]));
    const ref = model.createState();
    const expected: number[] = [];
    events.forEach((e, t) => {
      trainIn.next(e);
      serveIn.next(e.x);
      expected.push(model.step(ref, e.x)[0]); // the live weights at this moment
      if (t === 3) expect(model.version).toBe(1);
    });
    expect(model.version).toBe(10);
    served.forEach((v, t) => expect(v).toBeCloseTo(expected[t], 5));
  });

  it('forwards a source error and never-ending sources stop cleanly on unsubscribe', () => {
    const model = make();
    const boom = new Error('boom');
    const r = collect(concat(from(events.slice(0, 3)), throwError(() => boom)).pipe(trainOnline(model)));
    expect(r.error).toBe(boom);
    expect(r.values).toHaveLength(3);
    const sub = concat(from(events), NEVER).pipe(trainOnline(model, { k1: 4 })).subscribe();
    expect(sub.closed).toBe(false);
    sub.unsubscribe();
    expect(sub.closed).toBe(true);
  });

  it('early unsubscribe (take) stops learning at once', () => {
    const model = make();
    const src = new Subject<(typeof events)[number]>();
    const seen: TrainEvent[] = [];
    const sub = src.pipe(trainOnline(model, { k1: 2 })).subscribe((e) => {
      seen.push(e);
      if (seen.length === 3) sub.unsubscribe();
    });
    events.forEach((e) => src.next(e));
    expect(seen).toHaveLength(3);
    expect(model.version).toBe(1);
  });

  it.each([
    [{ x: [1] }, 'SEQ_INPUT_SHAPE'],
    [{ x: [1, NaN] }, 'SEQ_INPUT_NON_FINITE'],
    [{ x: 'no' }, 'SEQ_INPUT_TYPE'],
    [42, 'SEQ_INPUT_TYPE'],
    [null, 'SEQ_INPUT_TYPE'],
    [{ x: [1, 2], target: [1, 2] }, 'SEQ_TARGET_SHAPE'],
    [{ x: [1, 2], target: [Infinity] }, 'SEQ_TARGET_NON_FINITE'],
    [{ x: [1, 2], target: 'a' }, 'SEQ_TARGET_TYPE'],
  ])('bad event %j errors once with %s', (bad, code) => {
    const model = make();
    const r = collect(from([events[0], bad as any, events[1]]).pipe(trainOnline(model)));
    expect(r.error?.code).toBe(code);
    expect(r.values).toHaveLength(1);
  });

  it('checks targets against the loss: class index range, BCE in [0, 1]', () => {
    const ce = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3, head: { outputSize: 3, activation: 'softmax' }, seed: 1 });
    expect(collect(of({ x: [0, 0], target: 3 }).pipe(trainOnline(ce, { loss: 'cross_entropy' }))).error?.code).toBe('SEQ_TARGET_RANGE');
    const ok = collect(from([{ x: [0, 0], target: 2 }, { x: [1, 0], target: [0.2, 0.3, 0.5] }]).pipe(trainOnline(ce, { loss: 'cross_entropy', k1: 2 })));
    expect(ok.values.map((e) => e.kind)).toEqual(['prediction', 'prediction', 'update']);
    expect((ok.values[0] as any).loss).toBeGreaterThan(0);
    const bce = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3, head: { outputSize: 1, activation: 'sigmoid' }, seed: 1 });
    expect(collect(of({ x: [0, 0], target: [1.5] }).pipe(trainOnline(bce, { loss: 'binary_cross_entropy' }))).error?.code).toBe('SEQ_TARGET_RANGE');
  });

  it("invalidInput 'skip' drops bad events, reports them, and a throwing callback errors the stream", () => {
    const model = make();
    const bad: unknown[] = [];
    const r = collect(from([events[0], { x: [1] }, events[1]]).pipe(trainOnline(model, { invalidInput: 'skip', onError: (err, ev) => bad.push([err.code, ev]) })));
    expect(r.completed).toBe(true);
    expect(r.values).toHaveLength(2);
    expect(bad).toEqual([['SEQ_INPUT_SHAPE', { x: [1] }]]);
    const thrown = new Error('callback');
    const r2 = collect(from([{ x: [1] }, events[0]]).pipe(trainOnline(model, { invalidInput: 'skip', onError: () => { throw thrown; } })));
    expect(r2.error).toBe(thrown);
  });

  it('throws SEQ_INVALID_OPTION synchronously for invalid options', () => {
    const model = make();
    const bad: Array<Record<string, unknown>> = [
      { k1: 0 },
      { k1: 1.5 },
      { k1: 8, k2: 4 },
      { loss: 'hinge' },
      { loss: 'cross_entropy' }, // identity head is fine for CE ... but a sigmoid head is not, see below
      { optimizer: {} },
      { clipGradNorm: -1 },
      { selfSupervised: 'yes' },
      { selfSupervised: true }, // output size 1 != input size 2
      { engine: 'gpu' },
      { invalidInput: 'ignore' },
      { onError: 3 },
      { initialState: { format: 'seqstream-state', version: 1, cell: 'lstm', hiddenSize: 5, numLayers: 1, h: [[0]] } },
    ];
    const sigmoidHead = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 5, head: { outputSize: 1, activation: 'sigmoid' }, seed: 1 });
    expect(() => trainOnline(sigmoidHead, { loss: 'cross_entropy' })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    for (const o of bad.filter((o) => o.loss !== 'cross_entropy')) {
      expect(() => trainOnline(model, o as any), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    }
    expect(() => trainOnline({} as any)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });

  it('saves model + optimizer + state to a file and resumes exactly where it stopped', async () => {
    const all = Array.from({ length: 64 }, () => ({ x: [rand() * 2 - 1, rand() * 2 - 1], target: [rand()] }));
    const straight = make();
    const full = collect(from(all).pipe(trainOnline(straight, { k1: 8, optimizer: adam({ lr: 0.01 }) })));

    const first = make();
    const opt = adam({ lr: 0.01 });
    let last: TrainUpdate | null = null;
    collect(from(all.slice(0, 32)).pipe(trainOnline(first, { k1: 8, optimizer: opt }))).values.forEach((e) => {
      if (e.kind === 'update') last = e;
    });
    const file = join(mkdtempSync(join(tmpdir(), 'seqstream-ckpt-')), 'run.json');
    await saveCheckpoint(file, { model: first, optimizer: opt, state: last!.snapshot(), meta: { events: 32 } });
    const back = await loadCheckpoint(file);
    expect(back.meta).toEqual({ events: 32 });
    const rest = collect(from(all.slice(32)).pipe(trainOnline(back.model, { k1: 8, optimizer: back.optimizer, initialState: back.state })));
    const preds = (v: TrainEvent[]) => v.filter((e) => e.kind === 'prediction').map((e: any) => Array.from(e.y));
    expect(preds(rest.values)).toEqual(preds(full.values).slice(32));
    expect(back.model.toJSON()).toEqual(straight.toJSON());
    expect(back.optimizer.steps).toBe(8);
  });
});
