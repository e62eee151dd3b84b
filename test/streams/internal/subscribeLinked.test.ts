/**
 * Operators stop their source the moment their consumer leaves or they error — even mid-way
 * through a synchronous source — and nothing (least of all training) happens after that.
 */
import * as tf from '@tensorflow/tfjs';
import { from, map, Observable, range, Subject, take, tap, throwError } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/tensors/backend.js';
import { RecurrentModel } from '../../../src/cells/index.js';
import { MemoryStateStore, recurrent, recurrentByKey, standardize, trainOnline } from '../../../src/streams/index.js';

const model = () => RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, head: { outputSize: 2 }, seed: 1 });

beforeAll(async () => {
  await initBackend('cpu');
});

describe('operators stop a synchronous source when the consumer leaves', () => {
  it('recurrent() + take(1) pulls one event, not the whole source', () => {
    let pulled = 0;
    range(0, 100_000).pipe(tap(() => pulled++), map((i) => [i % 3, 1]), recurrent(model()), take(1)).subscribe();
    expect(pulled).toBe(1);
  });

  it('recurrent() stops pulling after erroring on a bad event', () => {
    let pulled = 0;
    let errors = 0;
    from([[NaN, 1], ...Array.from({ length: 9_999 }, () => [0, 1])])
      .pipe(tap(() => pulled++), recurrent(model()))
      .subscribe({ error: () => errors++ });
    expect([pulled, errors]).toEqual([1, 1]);
  });

  it('a throwing onError is called once: the stream errors and hears no more', () => {
    let calls = 0;
    let error: unknown;
    from([[NaN, 1], [NaN, 2], [NaN, 3]])
      .pipe(recurrent(model(), { invalidInput: 'skip', onError: () => { calls++; throw new Error('cb'); } }))
      .subscribe({ error: (e) => (error = e) });
    expect(calls).toBe(1);
    expect((error as Error).message).toBe('cb');
  });

  it('trainOnline() + take(1) does not go on changing the shared weights', () => {
    const m = model();
    let pulled = 0;
    range(0, 20_000)
      .pipe(tap(() => pulled++), map((i) => ({ x: [i % 3, 1], target: [0, 1] })), trainOnline(m, { k1: 4 }), take(1))
      .subscribe();
    expect(pulled).toBe(1);
    expect(m.version).toBe(0);
  });

  it.each(['fused', 'tfjs'] as const)('trainOnline() (%s) learns nothing once the consumer left inside the prediction, and leaks no tensors', (engine) => {
    const m = model();
    m.dispose();
    const before = tf.memory().numTensors;
    const input = new Subject<{ x: number[]; target: number[] }>();
    input.pipe(trainOnline(m, { k1: 1, engine }), take(1)).subscribe();
    input.next({ x: [1, 0], target: [0, 1] }); // k1 = 1: a window is due right after this prediction
    expect(m.version).toBe(0);
    expect(input.observed).toBe(false);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('recurrentByKey() + take(1) stops the source after the first batch', () => {
    let pulled = 0;
    range(0, 100_000)
      .pipe(tap(() => pulled++), map((i) => ({ key: i % 7, x: [i % 3, 1] })), recurrentByKey<number>(model(), { maxBatch: 64 }), take(1))
      .subscribe();
    expect(pulled).toBeLessThanOrEqual(65);
  });

  it('recurrent() never subscribes its source when its reset stream errors during set-up', () => {
    let subscribed = false;
    let error: unknown;
    const source = new Observable<number[]>(() => {
      subscribed = true;
    });
    source.pipe(recurrent(model(), { reset: throwError(() => new Error('reset failed')) })).subscribe({ error: (e) => (error = e) });
    expect((error as Error).message).toBe('reset failed');
    expect(subscribed).toBe(false);
  });

  it('standardize() + take(1) pulls one event', () => {
    let pulled = 0;
    range(0, 100_000).pipe(tap(() => pulled++), map((i) => [i, 1]), standardize(), take(1)).subscribe();
    expect(pulled).toBe(1);
  });
});

describe('recurrentByKey() lifecycle and options', () => {
  it('a throwing checkpoint.extra errors the stream with SEQ_KEYED_CHECKPOINT instead of hanging', async () => {
    const store = new MemoryStateStore<number>();
    const outcome = await new Promise<string>((resolve) => {
      from([{ key: 1, x: [0, 1] }])
        .pipe(recurrentByKey<number>(model(), { checkpoint: { store, onComplete: true, extra: () => { throw new Error('extra failed'); } } }))
        .subscribe({ error: (e) => resolve(e.code), complete: () => resolve('complete') });
      setTimeout(() => resolve('still running'), 1_000);
    });
    expect(outcome).toBe('SEQ_KEYED_CHECKPOINT');
  });

  it("one key's bad initialState rejects that key's event only", async () => {
    const m = model();
    const rejected: string[] = [];
    const outputs: Array<number | string> = [];
    await new Promise<void>((resolve, reject) => {
      from([{ key: 'good', x: [0, 1] }, { key: 'bad', x: [0, 1] }, { key: 'good', x: [1, 1] }, { key: 'other', x: [1, 0] }])
        .pipe(
          recurrentByKey<string>(m, {
            initialState: (key) => (key === 'bad' ? ({ format: 'seqstream-state', version: 1, cell: 'gru', hiddenSize: 99, numLayers: 1, h: [[]] } as never) : undefined),
            onError: (e) => rejected.push(e.code),
          }),
        )
        .subscribe({ next: (o) => outputs.push(o.key), error: reject, complete: resolve });
    });
    expect(rejected).toEqual(['SEQ_KEYED_INITIAL_STATE']);
    expect(outputs.sort()).toEqual(['good', 'good', 'other']);
  });

  it('rejects a resumeFrom checkpoint of another model shape at creation with SEQ_INVALID_OPTION', async () => {
    const other = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 6, seed: 1 });
    const store = new MemoryStateStore<number>();
    await new Promise<void>((resolve, reject) => {
      from([{ key: 1, x: [0, 1] }]).pipe(recurrentByKey<number>(other, { checkpoint: { store } })).subscribe({ error: reject, complete: resolve });
    });
    const cp = (await store.load())!;
    expect(() => recurrentByKey<number>(model(), { resumeFrom: cp })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });

  it('after a resume, the next periodic checkpoint comes every N events, not at once', async () => {
    const m = model();
    const store = new MemoryStateStore<number>();
    const events = (n: number, from0: number) => Array.from({ length: n }, (_, i) => ({ key: i % 3, x: [i % 5, 1], offset: from0 + i }));
    await new Promise<void>((resolve, reject) => {
      from(events(150, 0)).pipe(recurrentByKey<number>(m, { checkpoint: { store } })).subscribe({ error: reject, complete: resolve });
    });
    const cp = (await store.load())!;
    const resumedStore = new MemoryStateStore<number>();
    const input = new Subject<{ key: number; x: number[]; offset: number }>();
    input.pipe(recurrentByKey<number>(m, { resumeFrom: cp, checkpoint: { store: resumedStore, everyEvents: 100, onComplete: false } })).subscribe();
    for (const e of events(10, 150)) input.next(e);
    await new Promise((r) => setTimeout(r, 20));
    expect(resumedStore.saves).toBe(0);
    for (const e of events(95, 160)) input.next(e);
    await new Promise((r) => setTimeout(r, 20));
    expect(resumedStore.saves).toBe(1);
    input.complete();
  });
});
