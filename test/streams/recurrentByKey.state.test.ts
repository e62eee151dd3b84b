import { from, NEVER, Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecurrentModel, type StateSnapshot } from '../../src/cells/index.js';
import { SeqstreamError } from '../../src/errors.js';
import {
  KeyedRecurrentControl,
  MemoryStateStore,
  recurrentByKey,
  type Eviction,
  type KeyedEvent,
  type KeyedOutput,
  type RecurrentByKeyOptions,
} from '../../src/streams/index.js';
import { makeModel, randomEvents, reference, expectClose } from './keyedTestKit.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('recurrentByKey: reset, snapshots, memory bounds, options, checkpoints', () => {
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
