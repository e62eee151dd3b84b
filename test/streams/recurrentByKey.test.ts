import { EMPTY, from, NEVER, Subject, throwError, concat, of, take, groupBy, mergeMap, map, lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecurrentModel, seededRandom, type CellKind, type StateSnapshot } from '../../src/cells/index.js';
import { SeqstreamError } from '../../src/errors.js';
import {
  recurrent,
  KeyedRecurrentControl,
  MemoryStateStore,
  recurrentByKey,
  type Eviction,
  type KeyedEvent,
  type KeyedOutput,
  type RecurrentByKeyOptions,
} from '../../src/streams/index.js';

const I = 5;

function makeModel(cell: CellKind = 'lstm', opts: { layers?: number; head?: boolean; H?: number } = {}): RecurrentModel {
  return RecurrentModel.create({ cell, inputSize: I, hiddenSize: opts.H ?? 6, numLayers: opts.layers ?? 1, head: opts.head === false ? null : { outputSize: 2 }, seed: 11 });
}

/** Random events over `keys` keys, some with reset flags. */
function randomEvents(n: number, keys: number, seed: number, resetRate = 0.03): KeyedEvent<string>[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    key: `k${Math.floor(rnd() * keys)}`,
    x: Array.from({ length: I }, () => rnd() * 2 - 1),
    reset: rnd() < resetRate ? true : undefined,
    offset: i,
  }));
}

/** Reference: each key stepped alone with `model.step`, in event order. */
function reference(model: RecurrentModel, events: KeyedEvent<string>[], emitHidden = false): Map<number, Float32Array> {
  const states = new Map<string, ReturnType<RecurrentModel['createState']>>();
  const out = new Map<number, Float32Array>();
  for (const e of events) {
    let s = states.get(e.key);
    if (!s || e.reset) {
      s = model.createState();
      states.set(e.key, s);
    }
    const y = model.step(s, e.x);
    out.set(e.offset as number, emitHidden ? s.h[s.h.length - 1].slice() : y);
  }
  return out;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
}

/** Pushes events through a Subject in random bursts with random async gaps; resolves with all outputs. */
async function runBursty<K>(events: KeyedEvent<K>[], options: RecurrentByKeyOptions<K>, model: RecurrentModel, seed: number): Promise<KeyedOutput<K>[]> {
  const rnd = seededRandom(seed);
  const subject = new Subject<KeyedEvent<K>>();
  const outs: KeyedOutput<K>[] = [];
  const done = new Promise<void>((resolve, reject) => {
    subject.pipe(recurrentByKey(model, options)).subscribe({ next: (o) => outs.push(o), error: reject, complete: resolve });
  });
  let i = 0;
  while (i < events.length) {
    const burst = 1 + Math.floor(rnd() * 40);
    for (let j = 0; j < burst && i < events.length; j++) subject.next(events[i++]);
    const gap = rnd();
    if (gap < 0.4) await Promise.resolve();
    else if (gap < 0.7) await new Promise((r) => setTimeout(r, 0));
    else if (gap < 0.8) await new Promise((r) => setTimeout(r, 3));
  }
  subject.complete();
  await done;
  return outs;
}

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

  describe('reset', () => {
    it('the event flag zeroes the state before the step', () => {
      const model = makeModel();
      const events = randomEvents(300, 5, 21, 0.1);
      const ref = reference(model, events);
      const outs: KeyedOutput<string>[] = [];
      from(events).pipe(recurrentByKey(model, { maxBatch: 16 })).subscribe((o) => outs.push(o));
      for (const o of outs) expectClose(o.y, ref.get(o.offset as number) as Float32Array);
    });

    it('the reset stream applies after the key\'s already queued events', async () => {
      const model = makeModel();
      const resets = new Subject<string>();
      const subject = new Subject<KeyedEvent<string>>();
      const outs: KeyedOutput<string>[] = [];
      subject.pipe(recurrentByKey(model, { reset: resets })).subscribe((o) => outs.push(o));
      const events = randomEvents(6, 1, 4, 0).map((e) => ({ ...e, key: 'a' }));
      subject.next(events[0]);
      subject.next(events[1]);
      resets.next('a'); // queued events 0,1 step with the old state, then zero
      resets.next('unknown'); // no-op
      subject.next(events[2]);
      await Promise.resolve();
      resets.next('a'); // nothing queued: zero now
      subject.next(events[3]);
      await Promise.resolve();
      const ref = reference(model, events.slice(0, 4).map((e, i) => ({ ...e, reset: i === 2 || i === 3 })));
      expect(outs).toHaveLength(4);
      for (const o of outs) expectClose(o.y, ref.get(o.offset as number) as Float32Array);
    });
  });

  it('snapshot and restore a key through the control', () => {
    const model = makeModel('gru', { layers: 2 });
    const control = new KeyedRecurrentControl<string>();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: KeyedOutput<string>[] = [];
    subject.pipe(recurrentByKey(model, { control })).subscribe((o) => outs.push(o));
    const events = randomEvents(10, 1, 8, 0).map((e) => ({ ...e, key: 'a' }));
    events.slice(0, 5).forEach((e) => subject.next(e));
    const snap = control.snapshot('a') as StateSnapshot;
    expect(snap.format).toBe('seqstream-state');
    expect(control.snapshot('nope')).toBeUndefined();
    // Continue 'a' and a copy 'b' restored from the snapshot: same outputs.
    control.restore('b', JSON.parse(JSON.stringify(snap)));
    expect(control.keys()).toEqual(['a', 'b']);
    for (const e of events.slice(5)) {
      subject.next(e);
      subject.next({ ...e, key: 'b' });
    }
    control.stats();
    const tail = outs.slice(5);
    for (let i = 0; i < tail.length; i += 2) expectClose(tail[i].y, tail[i + 1].y, 0);
    const ref = reference(model, events);
    for (const o of tail.filter((t) => t.key === 'a')) expectClose(o.y, ref.get(o.offset as number) as Float32Array);
    expect(() => control.restore('c', { ...snap, h: snap.h.map((l) => l.slice(1)) })).toThrowError(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    expect(control.has('c')).toBe(false);
    expect(control.delete('a')).toBe(true);
    expect(control.delete('a')).toBe(false);
    expect(control.size).toBe(1);
  });

  describe('bounded memory', () => {
    it('evicts the least recently used key past maxKeys and reports its state; restoring it continues exactly', () => {
      const model = makeModel();
      const evictions: Eviction<string>[] = [];
      const parked = new Map<string, StateSnapshot>();
      const events = randomEvents(500, 9, 31, 0);
      const outs: KeyedOutput<string>[] = [];
      const control = new KeyedRecurrentControl<string>();
      from(events)
        .pipe(
          recurrentByKey<string>(model, {
            maxKeys: 4,
            maxBatch: 3,
            control,
            onEvict: (e) => {
              evictions.push(e);
              parked.set(e.key, e.snapshot);
            },
            initialState: (key) => {
              const s = parked.get(key);
              parked.delete(key);
              return s;
            },
          }),
        )
        .subscribe((o) => outs.push(o));
      expect(evictions.length).toBeGreaterThan(50);
      expect(evictions.every((e) => e.reason === 'lru' && typeof e.offset === 'number')).toBe(true);
      // Parking evicted states and handing them back makes eviction invisible in the outputs.
      const ref = reference(model, events);
      for (const o of outs) expectClose(o.y, ref.get(o.offset as number) as Float32Array);
    });

    it('the evicted key is the least recently used one', () => {
      const model = makeModel();
      const evicted: string[] = [];
      const ev = (key: string): KeyedEvent<string> => ({ key, x: [0, 0, 0, 0, 1] });
      from([ev('a'), ev('b'), ev('c'), ev('a'), ev('d'), ev('e')])
        .pipe(recurrentByKey<string>(model, { maxKeys: 3, maxBatch: 1, onEvict: (e) => evicted.push(e.key) }))
        .subscribe();
      expect(evicted).toEqual(['b', 'c']);
    });

    it('evicts idle keys after idleTtlMs (injected clock)', () => {
      let now = 1000;
      const model = makeModel();
      const evicted: Array<[string, string]> = [];
      const subject = new Subject<KeyedEvent<string>>();
      const control = new KeyedRecurrentControl<string>();
      subject.pipe(recurrentByKey<string>(model, { idleTtlMs: 100, clock: () => now, maxBatch: 1, control, onEvict: (e) => evicted.push([e.key, e.reason]) })).subscribe();
      subject.next({ key: 'a', x: [1, 0, 0, 0, 0] });
      now += 60;
      subject.next({ key: 'b', x: [1, 0, 0, 0, 0] });
      now += 60; // a idle 120 ms, b 60 ms
      subject.next({ key: 'c', x: [1, 0, 0, 0, 0] });
      expect(evicted).toEqual([['a', 'idle']]);
      expect(control.keys()).toEqual(['b', 'c']);
      now += 500;
      subject.next({ key: 'c', x: [1, 0, 0, 0, 0] });
      expect(evicted).toEqual([['a', 'idle'], ['b', 'idle']]);
      expect(control.stats().evicted).toEqual({ lru: 0, idle: 2, deleted: 0 });
      subject.complete();
    });

    it('a throwing onEvict errors the stream', () => {
      const model = makeModel();
      let error: unknown;
      from(randomEvents(20, 10, 1, 0))
        .pipe(recurrentByKey<string>(model, { maxKeys: 2, maxBatch: 1, onEvict: () => { throw new Error('evict cb'); } }))
        .subscribe({ error: (e) => (error = e) });
      expect((error as Error).message).toBe('evict cb');
    });

    it('slab memory per key is the state size plus a few bookkeeping bytes', () => {
      const model = RecurrentModel.create({ cell: 'lstm', inputSize: 4, hiddenSize: 32, seed: 1 });
      const control = new KeyedRecurrentControl<number>();
      const events = Array.from({ length: 5000 }, (_, i) => ({ key: i, x: [1, 2, 3, 4] }));
      from(events).pipe(recurrentByKey<number>(model, { control, maxKeys: 5000, checkpoint: { store: new MemoryStateStore(), onComplete: false } })).subscribe();
      // completed: control unbound. Run again without completing to read stats.
      const subject = new Subject<KeyedEvent<number>>();
      subject.pipe(recurrentByKey<number>(model, { control, maxKeys: 5000 })).subscribe();
      events.forEach((e) => subject.next(e));
      const s = control.stats();
      expect(s.keys).toBe(5000);
      expect(s.stateBytesPerKey).toBe(2 * 32 * 4);
      // Per row: the state plus ~41 bytes of bookkeeping; plus the maxBatch-row batch area once.
      expect(s.slabBytes).toBeLessThan(s.capacity * (s.stateBytesPerKey + 64) + 1024 * s.stateBytesPerKey);
      expect(s.capacity).toBeLessThanOrEqual(5000);
    });
  });

  it('invalid options throw SEQ_INVALID_OPTION synchronously', () => {
    const model = makeModel();
    const noHead = makeModel('lstm', { head: false });
    const bad: Array<RecurrentByKeyOptions<string>> = [
      { maxBatch: 0 },
      { maxBatch: 1.5 },
      { maxKeys: -1 },
      { maxKeys: 10, maxBatch: 11 },
      { maxWaitMs: -1 },
      { maxWaitMs: Infinity },
      { idleTtlMs: 0 },
      { idleTtlMs: NaN },
      { emit: 'nope' as never },
      { invalidInput: 'ignore' as never },
      { onEvict: 3 as never },
      { reset: [] as never },
      { checkpoint: { store: {} as never } },
      { checkpoint: { store: new MemoryStateStore(), everyEvents: -1 } },
      { checkpoint: { store: new MemoryStateStore(), extra: {} as never } },
      { resumeFrom: {} as never },
      { profile: 'yes' as never },
    ];
    for (const o of bad) expect(() => recurrentByKey(model, o), JSON.stringify(o)).toThrowError(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => recurrentByKey(noHead, { emit: 'output' })).toThrowError(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });

  it("emit 'all' gives head output and top h; 'hidden' gives top h", () => {
    const model = makeModel('lstm', { layers: 2 });
    const events = randomEvents(30, 3, 77, 0);
    const refY = reference(model, events);
    const refH = reference(model, events, true);
    const all: KeyedOutput<string>[] = [];
    const hidden: KeyedOutput<string>[] = [];
    from(events).pipe(recurrentByKey(model, { emit: 'all' })).subscribe((o) => all.push(o));
    from(events).pipe(recurrentByKey(model, { emit: 'hidden' })).subscribe((o) => hidden.push(o));
    for (let i = 0; i < events.length; i++) {
      expectClose(all[i].y, refY.get(i) as Float32Array);
      expectClose(all[i].h as Float32Array, refH.get(i) as Float32Array);
      expectClose(hidden[i].y, refH.get(i) as Float32Array);
      expect(hidden[i].h).toBeUndefined();
    }
  });

  it('follows a shared model whose weights change (model.version)', () => {
    const model = makeModel();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: KeyedOutput<string>[] = [];
    subject.pipe(recurrentByKey(model, { maxBatch: 1 })).subscribe((o) => outs.push(o));
    const x = [0.5, -0.5, 0.25, 0, 1];
    subject.next({ key: 'a', x });
    model.updateParameters((p) => p.get('head.bias')!.data.fill(10));
    subject.next({ key: 'b', x });
    expect(outs[0].modelVersion).toBe(0);
    expect(outs[1].modelVersion).toBe(1);
    expect(outs[1].y[0] - outs[0].y[0]).toBeGreaterThan(5);
  });

  describe('checkpoints', () => {
    it('resumeFrom a checkpoint + replay after its offset equals an uninterrupted run', async () => {
      const model = makeModel('lstm', { layers: 2 });
      const events = randomEvents(400, 12, 5, 0.02);
      const full: KeyedOutput<string>[] = [];
      from(events).pipe(recurrentByKey(model, { maxBatch: 8 })).subscribe((o) => full.push(o));

      const store = new MemoryStateStore<string>();
      const subject = new Subject<KeyedEvent<string>>();
      const first: KeyedOutput<string>[] = [];
      const sub = subject.pipe(recurrentByKey<string>(model, { maxBatch: 8, checkpoint: { store, everyEvents: 50 } })).subscribe((o) => first.push(o));
      for (let i = 0; i < 237; i += 20) {
        events.slice(i, Math.min(i + 20, 237)).forEach((e) => subject.next(e));
        await new Promise((r) => setTimeout(r, 0));
      }
      sub.unsubscribe(); // "crash"
      const cp = (await store.load())!;
      expect(cp.offset).not.toBeNull();
      expect(cp.offset).toBeLessThan(237);
      expect(store.saves).toBeGreaterThanOrEqual(4);
      const resumedModel = RecurrentModel.fromJSON(cp.model);
      const second: KeyedOutput<string>[] = [];
      from(events.slice((cp.offset as number) + 1))
        .pipe(recurrentByKey<string>(resumedModel, { maxBatch: 5, resumeFrom: cp }))
        .subscribe((o) => second.push(o));
      expect(second[0].offset).toBe((cp.offset as number) + 1);
      // Float32 tolerance, not bit equality: a SIMD kernel may round differently with other batch sizes.
      for (const o of second) expectClose(o.y, full[o.offset as number].y, 1e-5);
    });

    it('control.checkpoint() saves on demand; complete waits for the last save', async () => {
      const store = new MemoryStateStore<string>();
      const control = new KeyedRecurrentControl<string>();
      const model = makeModel();
      const subject = new Subject<KeyedEvent<string>>();
      let completed = false;
      let extras = 0;
      subject.pipe(recurrentByKey<string>(model, { control, checkpoint: { store, includeModel: false, extra: () => ({ optimizer: ++extras }) } })).subscribe({ complete: () => (completed = true) });
      randomEvents(10, 3, 1, 0).forEach((e) => subject.next(e));
      const cp = await control.checkpoint();
      expect(cp.offset).toBe(9);
      expect(cp.events).toBe(10);
      expect(cp.model).toBeNull();
      expect(cp.extra).toEqual({ optimizer: 1 });
      expect(cp.keys.length).toBe(control.size);
      subject.next({ key: 'z', x: [1, 1, 1, 1, 1], offset: 10 });
      subject.complete();
      expect(completed).toBe(false);
      await new Promise((r) => setTimeout(r, 0));
      expect(completed).toBe(true);
      expect((await store.load())!.offset).toBe(10);
      expect(store.saves).toBe(2);
    });

    it('a failing store errors the stream with SEQ_STORE_WRITE', async () => {
      const model = makeModel();
      const store = { save: async () => { throw new Error('disk full'); }, load: async () => undefined };
      const err = await new Promise<SeqstreamError>((resolve) => {
        from(randomEvents(10, 2, 1, 0)).pipe(recurrentByKey<string>(model, { checkpoint: { store, everyEvents: 5 } })).subscribe({ error: resolve });
      });
      expect(err.code).toBe('SEQ_STORE_WRITE');
    });

    it('a control binds to one subscription at a time', () => {
      const model = makeModel();
      const control = new KeyedRecurrentControl<string>();
      NEVER.pipe(recurrentByKey<string>(model, { control })).subscribe();
      let error: SeqstreamError | undefined;
      NEVER.pipe(recurrentByKey<string>(model, { control })).subscribe({ error: (e) => (error = e) });
      expect(error?.code).toBe('SEQ_KEYED_CONTROL_IN_USE');
    });
  });
});
