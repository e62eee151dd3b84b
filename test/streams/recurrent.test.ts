import * as tf from '@tensorflow/tfjs';
import { concat, EMPTY, from, map, NEVER, of, Subject, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensors/backend.js';
import { RecurrentModel, runSequence, seededRandom } from '../../src/cells/index.js';
import { InvalidInputError, type SeqstreamError } from '../../src/errors.js';
import { RecurrentControl, recurrent } from '../../src/streams/index.js';
import { expectClose } from '../support/fixtures.js';

const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 6, numLayers: 2, head: { outputSize: 2, activation: 'sigmoid' }, seed: 11 });
const rand = seededRandom(3);
const seq = Array.from({ length: 25 }, () => [rand() * 2 - 1, rand() * 2 - 1, rand() * 2 - 1]);

function collect<T>(obs: import('rxjs').Observable<T>): { values: T[]; error: unknown; completed: boolean } {
  const out = { values: [] as T[], error: undefined as unknown, completed: false };
  obs.subscribe({ next: (v) => out.values.push(v), error: (e) => (out.error = e), complete: () => (out.completed = true) });
  return out;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe.each(['fused', 'tfjs'] as const)('recurrent() on the %s engine', (engine) => {
  it('completes without output on an empty source', () => {
    const r = collect(EMPTY.pipe(recurrent(model, { engine })));
    expect(r.values).toEqual([]);
    expect(r.completed).toBe(true);
  });

  it('event by event equals the whole sequence at once', () => {
    const whole = runSequence(model, [seq]);
    const r = collect(from(seq).pipe(recurrent(model, { engine, emit: 'all' })));
    expect(r.completed).toBe(true);
    expect(r.values).toHaveLength(seq.length);
    r.values.forEach((s, t) => {
      expectClose(s.h, whole.output[0][t]);
      expectClose(s.y!, whole.y![0][t]);
    });
    const last = r.values[seq.length - 1].state;
    expectClose(last.h.flat(), whole.hN.flat(2));
    expectClose(last.c!.flat(), whole.cN!.flat(2));
  });

  it('emits the head output by default and the top h with emit: hidden', () => {
    const y = collect(of(seq[0]).pipe(recurrent(model, { engine }))).values[0];
    expect(y).toHaveLength(2);
    const h = collect(of(seq[0]).pipe(recurrent(model, { engine, emit: 'hidden' }))).values[0];
    expect(h).toHaveLength(6);
  });

  it('gives each subscription its own state', () => {
    const op = recurrent(model, { engine, emit: 'hidden' });
    const a = new Subject<number[]>();
    const b = new Subject<number[]>();
    const outA: Float32Array[] = [];
    const outB: Float32Array[] = [];
    a.pipe(op).subscribe((v) => outA.push(v));
    b.pipe(op).subscribe((v) => outB.push(v));
    // Interleave two different sequences; each stream must match its own sequence alone.
    const seqB = seq.map((v) => v.map((u) => -u));
    for (let t = 0; t < 10; t++) {
      a.next(seq[t]);
      b.next(seqB[t]);
    }
    const wholeA = runSequence(model, [seq.slice(0, 10)]);
    const wholeB = runSequence(model, [seqB.slice(0, 10)]);
    outA.forEach((h, t) => expectClose(h, wholeA.output[0][t]));
    outB.forEach((h, t) => expectClose(h, wholeB.output[0][t]));
  });

  it('resets on a flagged event and on the reset stream', () => {
    const fresh = collect(from(seq.slice(0, 3)).pipe(recurrent(model, { engine, emit: 'hidden' }))).values;
    const flagged = collect(
      from([seq[5], seq[6], { x: seq[0], reset: true }, seq[1], seq[2]]).pipe(recurrent(model, { engine, emit: 'hidden' })),
    ).values;
    expectClose(flagged[2], fresh[0]);
    expectClose(flagged[4], fresh[2]);

    const input = new Subject<number[]>();
    const resets = new Subject<void>();
    const out: Float32Array[] = [];
    input.pipe(recurrent(model, { engine, emit: 'hidden', reset: resets })).subscribe((v) => out.push(v));
    input.next(seq[7]);
    resets.next();
    input.next(seq[0]);
    expectClose(out[1], fresh[0]);
  });

  it('starts from and resets to initialState; control snapshots and restores', () => {
    const control = new RecurrentControl();
    const input = new Subject<number[]>();
    const out: Float32Array[] = [];
    const sub = input.pipe(recurrent(model, { engine, emit: 'hidden', control })).subscribe((v) => out.push(v));
    expect(control.bound).toBe(true);
    for (const v of seq.slice(0, 4)) input.next(v);
    const saved = JSON.parse(JSON.stringify(control.snapshot()));
    input.next(seq[4]);
    const afterSaved = out[4];
    control.restore(saved);
    input.next(seq[4]);
    expectClose(out[5], afterSaved);
    control.reset();
    input.next(seq[0]);
    expectClose(out[6], out[0]);
    sub.unsubscribe();
    expect(control.bound).toBe(false);
    expect(() => control.snapshot()).toThrow(expect.objectContaining({ code: 'SEQ_CONTROL_UNBOUND' }));

    const resumed = collect(of(seq[4]).pipe(recurrent(model, { engine, emit: 'hidden', initialState: saved }))).values;
    expectClose(resumed[0], afterSaved);
  });

  it('errors with a coded InvalidInputError on bad input by default', () => {
    for (const [bad, code] of [
      [[1, 2], 'SEQ_INPUT_SHAPE'],
      [[1, NaN, 3], 'SEQ_INPUT_NON_FINITE'],
      [[1, Infinity, 3], 'SEQ_INPUT_NON_FINITE'],
      ['abc', 'SEQ_INPUT_TYPE'],
      [{ x: [1, '2', 3] }, 'SEQ_INPUT_TYPE'],
    ] as const) {
      const r = collect(from([seq[0], bad as never, seq[1]]).pipe(recurrent(model, { engine })));
      expect(r.values).toHaveLength(1);
      expect(r.error).toBeInstanceOf(InvalidInputError);
      expect((r.error as SeqstreamError).code).toBe(code);
    }
  });

  it('skips bad input to a side channel and leaves the state untouched', () => {
    const reported: Array<[string, unknown]> = [];
    const r = collect(
      from([seq[0], [1, 2], seq[1], [NaN, 0, 0], seq[2]]).pipe(
        recurrent(model, { engine, emit: 'hidden', invalidInput: 'skip', onError: (e, ev) => reported.push([e.code, ev]) }),
      ),
    );
    expect(r.completed).toBe(true);
    expect(reported.map(([c]) => c)).toEqual(['SEQ_INPUT_SHAPE', 'SEQ_INPUT_NON_FINITE']);
    const clean = collect(from(seq.slice(0, 3)).pipe(recurrent(model, { engine, emit: 'hidden' }))).values;
    r.values.forEach((h, t) => expectClose(h, clean[t]));
  });

  it('errors the stream when the side-channel callback throws', () => {
    const boom = new Error('boom');
    const r = collect(
      from([[1], seq[0]]).pipe(recurrent(model, { engine, invalidInput: 'skip', onError: () => { throw boom; } })),
    );
    expect(r.error).toBe(boom);
    expect(r.values).toEqual([]);
  });

  it('passes a source error through after the values before it', () => {
    const err = new Error('source failed');
    const r = collect(concat(from(seq.slice(0, 2)), throwError(() => err)).pipe(recurrent(model, { engine })));
    expect(r.values).toHaveLength(2);
    expect(r.error).toBe(err);
  });

  it('frees its state on unsubscribe from a never-ending source', () => {
    model.dispose();
    const before = tf.memory().numTensors;
    const input = new Subject<number[]>();
    const sub = concat(input, NEVER).pipe(recurrent(model, { engine })).subscribe();
    input.next(seq[0]);
    sub.unsubscribe();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(input.observed).toBe(false);
  });

  it('leaves no tensors after complete, error and reset', () => {
    model.dispose();
    const before = tf.memory().numTensors;
    collect(from(seq).pipe(recurrent(model, { engine })));
    collect(concat(of(seq[0]), throwError(() => new Error('x'))).pipe(recurrent(model, { engine })));
    collect(from([seq[0], { x: seq[1], reset: true }]).pipe(recurrent(model, { engine })));
    collect(from([seq[0], [1]]).pipe(recurrent(model, { engine })));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('recurrent() options', () => {
  it('rejects bad options synchronously with SEQ_INVALID_OPTION', () => {
    const noHead = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, seed: 1 });
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as SeqstreamError).code;
      }
      return 'no error';
    };
    expect(code(() => recurrent(noHead, { emit: 'output' }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => recurrent(model, { emit: 'nope' as never }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => recurrent(model, { engine: 'gpu' as never }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => recurrent(model, { invalidInput: 'ignore' as never }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => recurrent(model, { reset: 5 as never }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => recurrent(model, { initialState: { format: 'seqstream-state', version: 1, cell: 'gru', hiddenSize: 6, numLayers: 2, h: [] } }))).toBe('SEQ_INVALID_OPTION');
  });

  it('a control binds one subscription at a time', () => {
    const control = new RecurrentControl();
    const op = recurrent(model, { control });
    const first = NEVER.pipe(op).subscribe();
    const r = collect(NEVER.pipe(op));
    expect((r.error as SeqstreamError).code).toBe('SEQ_CONTROL_IN_USE');
    first.unsubscribe();
  });

  it('sees weight updates at the next event, never in the middle of one', () => {
    const m = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 3, head: { outputSize: 1 }, seed: 4 });
    const input = new Subject<number[]>();
    const out: number[] = [];
    input.pipe(recurrent(m)).subscribe((y) => out.push(y[0]));
    input.next([1]);
    m.updateParameters((p) => p.get('head.bias')!.data.fill(100));
    input.next([1]);
    expect(out[0]).toBeLessThan(50);
    expect(out[1]).toBeGreaterThan(50);
  });

  it('keeps event timing (marble test)', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const src = cold('a--b-|', { a: seq[0], b: seq[1] });
      const whole = runSequence(model, [[seq[0], seq[1]]]);
      const toKey = (y: Float32Array) => Array.from(y).map((v) => v.toFixed(5)).join(',');
      const key = (t: number) => whole.y![0][t].map((v) => v.toFixed(5)).join(',');
      expectObservable(src.pipe(recurrent(model), map((y) => toKey(y)))).toBe('a--b-|', { a: key(0), b: key(1) });
    });
  });
});

describe('recurrent() memory over a long stream', () => {
  it('keeps tf.memory().numTensors flat over 100,000 events on the tfjs engine', async () => {
    await initBackend('wasm');
    const small = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, seed: 2 });
    const before = tf.memory().numTensors;
    const input = new Subject<number[]>();
    let count = 0;
    const sub = input.pipe(recurrent(small, { engine: 'tfjs', emit: 'hidden' })).subscribe(() => count++);
    input.next([0, 0]);
    const baseline = tf.memory().numTensors;
    const samples: number[] = [];
    for (let i = 1; i < 100_000; i++) {
      input.next([Math.sin(i), Math.cos(i)]);
      if (i % 20_000 === 0) samples.push(tf.memory().numTensors);
    }
    expect(count).toBe(100_000);
    expect(samples).toEqual(samples.map(() => baseline));
    sub.unsubscribe();
    small.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
