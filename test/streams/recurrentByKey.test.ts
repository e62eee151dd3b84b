import { EMPTY, from, NEVER, Subject, throwError, concat, of, take, groupBy, mergeMap, map, lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededRandom, type CellKind } from '../../src/cells/index.js';
import { SeqstreamError } from '../../src/errors.js';
import {
  recurrent,
  KeyedRecurrentControl,
  recurrentByKey,
  type KeyedEvent,
  type KeyedOutput,
  type RecurrentByKeyOptions,
} from '../../src/streams/index.js';
import { makeModel, randomEvents, reference, expectClose, runBursty } from './keyedTestKit.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('recurrentByKey', () => {
  it('completes without values on an empty source', async () => {
    const values: unknown[] = [];
    let completed = false;
    EMPTY.pipe(recurrentByKey(makeModel())).subscribe({ next: (v) => values.push(v), complete: () => (completed = true) });
    expect(values).toEqual([]);
    expect(completed).toBe(true);
  });

  it('steps one value like model.step', () => {
    const model = makeModel();
    const outs: KeyedOutput<string>[] = [];
    of({ key: 'a', x: [0.1, 0.2, 0.3, 0.4, 0.5], offset: 7 }).pipe(recurrentByKey<string>(model)).subscribe((o) => outs.push(o));
    const ref = model.step(model.createState(), [0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(outs).toHaveLength(1);
    expect(outs[0].key).toBe('a');
    expect(outs[0].offset).toBe(7);
    expect(outs[0].modelVersion).toBe(0);
    expectClose(outs[0].y, ref);
  });

  describe('equals stepping each key alone, whatever the interleaving and batching', () => {
    const cases: Array<[CellKind, number, boolean]> = [
      ['lstm', 1, true],
      ['lstm', 2, false],
      ['gru', 2, true],
      ['rnn_tanh', 1, false],
      ['rnn_relu', 3, true],
    ];
    for (const [cell, layers, head] of cases) {
      it(`${cell}, ${layers} layer(s), ${head ? 'head' : 'hidden'}`, async () => {
        const model = makeModel(cell, { layers, head });
        for (let trial = 0; trial < 4; trial++) {
          const seed = 100 * layers + trial;
          const rnd = seededRandom(seed + 1);
          const keys = [1, 3, 17, 200][trial];
          const events = randomEvents(600, keys, seed);
          const ref = reference(model, events, !head);
          const policy: RecurrentByKeyOptions<string> = {
            maxBatch: [1, 2, 7, 64, 1024][Math.floor(rnd() * 5)],
            maxWaitMs: [0, 0, 1, 4][Math.floor(rnd() * 4)],
            maxKeys: 100_000,
          };
          const outs = await runBursty(events, policy, model, seed + 2);
          expect(outs.map((o) => o.offset)).toEqual(events.map((e) => e.offset)); // arrival order kept
          for (const o of outs) {
            expect(o.key).toBe(events[o.offset as number].key);
            expectClose(o.y, ref.get(o.offset as number) as Float32Array);
          }
        }
      });
    }
  });

  it('equals groupBy + one recurrent() per key on random interleavings and policies', async () => {
    for (const [trial, cell] of (['lstm', 'gru', 'rnn_tanh'] as CellKind[]).entries()) {
      const model = makeModel(cell, { layers: 2 });
      const events = randomEvents(800, [5, 60, 300][trial], 900 + trial, 0.02);
      // Reference: per-key operators, each stepping batch 1 with the same model.
      const perKey = await lastValueFrom(
        from(events).pipe(
          groupBy((e) => e.key),
          mergeMap((g) => {
            // recurrent() emits bare vectors: remember each event's offset to pair them up.
            const offsets: number[] = [];
            return g.pipe(
              map((e) => (offsets.push(e.offset as number), { x: e.x, reset: e.reset === true })),
              recurrent(model, { emit: 'output' }),
              map((y) => [offsets.shift() as number, y] as const),
            );
          }),
          toArray(),
        ),
      );
      const ref = new Map(perKey);
      expect(ref.size).toBe(events.length);
      const rnd = seededRandom(trial);
      const outs = await runBursty(events, { maxBatch: 1 + Math.floor(rnd() * 100), maxWaitMs: trial }, model, 50 + trial);
      for (const o of outs) expectClose(o.y, ref.get(o.offset as number) as Float32Array);
    }
  });

  it('steps repeated keys of one flush in successive sub-batches, in order', () => {
    const model = makeModel();
    const control = new KeyedRecurrentControl<string>();
    const events = randomEvents(8, 1, 3, 0).map((e, i) => ({ ...e, key: i < 5 ? 'a' : `b${i}` }));
    const outs: KeyedOutput<string>[] = [];
    const subject = new Subject<KeyedEvent<string>>();
    subject.pipe(recurrentByKey(model, { control, maxBatch: 64, profile: true })).subscribe((o) => outs.push(o));
    for (const e of events) subject.next(e);
    expect(outs).toHaveLength(0); // maxWaitMs 0: waits for the synchronous run to end
    control.stats(); // stats() flushes queued events first
    expect(outs).toHaveLength(8);
    // 'a' five times: 5 sub-batches; b5..b7 ride in the first.
    expect(control.stats().steps).toBe(5);
    const ref = reference(model, events);
    for (const o of outs) expectClose(o.y, ref.get(o.offset as number) as Float32Array);
    subject.complete();
  });

  it('flushes synchronously when maxBatch events are queued', () => {
    const model = makeModel();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: KeyedOutput<string>[] = [];
    subject.pipe(recurrentByKey(model, { maxBatch: 3 })).subscribe((o) => outs.push(o));
    const events = randomEvents(7, 10, 5, 0);
    for (let i = 0; i < 3; i++) subject.next(events[i]);
    expect(outs).toHaveLength(3);
    for (let i = 3; i < 7; i++) subject.next(events[i]);
    expect(outs).toHaveLength(6);
    subject.complete(); // complete flushes the rest
    expect(outs).toHaveLength(7);
  });

  it('maxWaitMs > 0 holds events until the timer, never longer', () => {
    vi.useFakeTimers();
    const model = makeModel();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: KeyedOutput<string>[] = [];
    subject.pipe(recurrentByKey(model, { maxWaitMs: 20 })).subscribe((o) => outs.push(o));
    const events = randomEvents(4, 4, 6, 0);
    subject.next(events[0]);
    vi.advanceTimersByTime(10);
    subject.next(events[1]);
    expect(outs).toHaveLength(0);
    vi.advanceTimersByTime(10); // 20 ms after the first event
    expect(outs).toHaveLength(2);
    subject.next(events[2]);
    vi.advanceTimersByTime(19);
    expect(outs).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(outs).toHaveLength(3);
  });

  it('forwards a source error and drops the queue', () => {
    const model = makeModel();
    const outs: unknown[] = [];
    let error: unknown;
    concat(from(randomEvents(3, 2, 1, 0)), throwError(() => new Error('boom')))
      .pipe(recurrentByKey(model))
      .subscribe({ next: (o) => outs.push(o), error: (e) => (error = e) });
    expect((error as Error).message).toBe('boom');
    expect(outs).toHaveLength(0);
  });

  it('runs on a never-ending source and stops cleanly on early unsubscribe', async () => {
    const model = makeModel();
    const control = new KeyedRecurrentControl<string>();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: KeyedOutput<string>[] = [];
    const sub = concat(subject, NEVER).pipe(recurrentByKey(model, { control })).subscribe((o) => outs.push(o));
    const events = randomEvents(10, 3, 2, 0);
    events.slice(0, 5).forEach((e) => subject.next(e));
    await Promise.resolve();
    expect(outs).toHaveLength(5);
    expect(control.running).toBe(true);
    events.slice(5).forEach((e) => subject.next(e));
    sub.unsubscribe(); // before the microtask flush
    await Promise.resolve();
    expect(outs).toHaveLength(5);
    expect(control.running).toBe(false);
    expect(() => control.size).toThrowError(expect.objectContaining({ code: 'SEQ_KEYED_NOT_RUNNING' }));
    expect(subject.observed).toBe(false);
  });

  it('take(1) downstream stops mid-flush without further emissions', () => {
    const model = makeModel();
    const outs: unknown[] = [];
    from(randomEvents(10, 10, 3, 0)).pipe(recurrentByKey(model), take(1)).subscribe((o) => outs.push(o));
    expect(outs).toHaveLength(1);
  });

  describe('bad input goes to the side channel; other keys go on untouched', () => {
    it('rejects with stable codes', () => {
      const model = makeModel();
      const good = randomEvents(6, 2, 9, 0);
      const bad: unknown[] = [
        { x: [1, 2, 3, 4, 5] },
        { key: null, x: [1, 2, 3, 4, 5] },
        { key: 'k0', x: [1, 2, 3] },
        { key: 'k1', x: [1, 2, NaN, 4, 5] },
        { key: 'k1', x: new Float32Array([1, 2, Infinity, 4, 5]) },
        { key: 'k0', x: ['1', 2, 3, 4, 5] },
        { key: 'k0', x: 'abcde' },
        { key: 'k0', x: [1, 2, 3, 4, 5], offset: 'x' },
        42,
        null,
      ];
      const stream: unknown[] = [];
      good.forEach((g, i) => {
        stream.push(g);
        if (bad[i]) stream.push(bad[i]);
      });
      stream.push(...bad.slice(good.length));
      const codes: string[] = [];
      const outs: KeyedOutput<string>[] = [];
      let completed = false;
      from(stream as KeyedEvent<string>[])
        .pipe(recurrentByKey<string>(model, { onError: (e, ev) => codes.push(e.code) && expect(ev).toBeDefined() }))
        .subscribe({ next: (o) => outs.push(o), complete: () => (completed = true) });
      expect(codes).toEqual([
        'SEQ_KEYED_MISSING_KEY',
        'SEQ_KEYED_MISSING_KEY',
        'SEQ_INPUT_SHAPE',
        'SEQ_INPUT_NON_FINITE',
        'SEQ_INPUT_NON_FINITE',
        'SEQ_INPUT_TYPE',
        'SEQ_INPUT_TYPE',
        'SEQ_KEYED_OFFSET',
        'SEQ_INPUT_TYPE',
        'SEQ_INPUT_TYPE',
      ]);
      expect(completed).toBe(true);
      const ref = reference(model, good);
      expect(outs).toHaveLength(good.length);
      for (const o of outs) expectClose(o.y, ref.get(o.offset as number) as Float32Array);
    });

    it("invalidInput: 'error' errors the stream once with the code", () => {
      const model = makeModel();
      let error: SeqstreamError | undefined;
      let errors = 0;
      from([{ key: 'a', x: [1, 2] }, { key: 'b', x: [1] }] as KeyedEvent<string>[])
        .pipe(recurrentByKey<string>(model, { invalidInput: 'error' }))
        .subscribe({ error: (e) => ((error = e), errors++) });
      expect(errors).toBe(1);
      expect(error?.code).toBe('SEQ_INPUT_SHAPE');
    });

    it('a throwing onError errors the stream', () => {
      const model = makeModel();
      let error: unknown;
      from([{ key: 'a', x: [1] }] as KeyedEvent<string>[])
        .pipe(recurrentByKey<string>(model, { onError: () => { throw new Error('callback'); } }))
        .subscribe({ error: (e) => (error = e) });
      expect((error as Error).message).toBe('callback');
    });
  });
});
