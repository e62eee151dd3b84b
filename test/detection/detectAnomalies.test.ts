import { from, lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { detectAnomalies, DetectorControl, MemoryDetectorStore, type AnomalyEvent, type DetectAnomaliesOptions, type SensorReading } from '../../src/detection/index.js';
import { sineSeries } from './series.js';

type R = SensorReading<string>;
const collect = (events: unknown[], options: DetectAnomaliesOptions<string> = {}) =>
  lastValueFrom(from(events as R[]).pipe(detectAnomalies<string>({ learningPeriod: 30, ...options }), toArray()));
const keyed = (key: string, seed: number, n = 160): R[] => sineSeries(n, seed, n - 20, 5).map((r) => ({ key, ...r }));
const scores = (out: AnomalyEvent<string>[], key?: string) => out.filter((e) => key === undefined || e.key === key).map((e) => e.score);

describe('detectAnomalies', () => {
  it('completes empty on an empty source', async () => {
    expect(await collect([])).toEqual([]);
  });

  it('emits one output per reading with the input event attached and alert = score >= threshold', async () => {
    const events = keyed('a', 1);
    const out = await collect(events, { threshold: 0.3 });
    expect(out).toHaveLength(events.length);
    out.forEach((e, i) => {
      expect(e.event).toBe(events[i]);
      expect(e.x).toBe(events[i].x);
      expect(e.timestamp).toBe(events[i].timestamp);
      expect(e.alert).toBe(e.score >= 0.3);
      expect(e.score >= 0 && e.score <= 1).toBe(true);
    });
    expect(out.some((e) => e.alert)).toBe(true);
  });

  it('scores interleaved keys exactly as each key alone', async () => {
    const a = keyed('a', 1);
    const b = keyed('b', 2, 120);
    const mixed: R[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < a.length) mixed.push(a[i]);
      if (i < b.length && i % 3 !== 0) mixed.push(b[i]);
    }
    for (let i = 0; i < b.length; i++) if (i % 3 === 0) mixed.push(b[i]);
    const bOrder = mixed.filter((e) => e.key === 'b');
    const out = await collect(mixed);
    expect(scores(out, 'a')).toEqual(scores(await collect(a)));
    expect(scores(out, 'b')).toEqual(scores(await collect(bOrder)));
  });

  it('reports bad values with a code, skips them and the key goes on as if they never came', async () => {
    const good = keyed('a', 3, 100);
    const withBad: unknown[] = [...good];
    withBad.splice(40, 0, { key: 'a', x: NaN, timestamp: 1 }, { key: 'a', x: 'twelve', timestamp: 2 }, { key: 'a', timestamp: 3 }, { x: 4 }, null, { key: 'a', x: [1], timestamp: Infinity });
    const errors: string[] = [];
    const out = await collect(withBad, { onError: (e) => errors.push(e.code) });
    expect(errors).toEqual(['SEQ_DETECT_BAD_VALUE', 'SEQ_DETECT_BAD_VALUE', 'SEQ_DETECT_BAD_VALUE', 'SEQ_DETECT_MISSING_KEY', 'SEQ_DETECT_MISSING_KEY', 'SEQ_DETECT_BAD_TIMESTAMP']);
    expect(scores(out)).toEqual(scores(await collect(good)));
    await expect(collect(withBad, { invalidInput: 'error' })).rejects.toMatchObject({ code: 'SEQ_DETECT_BAD_VALUE' });
  });

  it('resumed from a checkpoint, scores exactly as a run that never stopped', async () => {
    const events = [...keyed('a', 4, 130), ...keyed('b', 5, 90)].sort((p, q) => p.timestamp! - q.timestamp! || p.key.localeCompare(q.key));
    const uninterrupted = await collect(events);
    const store = new MemoryDetectorStore<string>();
    // The first run dies after 150 events; its last checkpoint was taken at 140.
    await collect(events.slice(0, 150), { checkpoint: { store, everyEvents: 35, onComplete: false } });
    await new Promise((r) => setTimeout(r, 0)); // the saves still in flight when it died land
    const cp = await store.load();
    expect(cp?.offset).toBe(139);
    const rest = await collect(events.slice(cp!.offset + 1), { resumeFrom: cp });
    expect(scores(rest)).toEqual(scores(uninterrupted).slice(140));
    expect(store.saves).toBe(4);
  });

  it('evicts the least recently used key beyond maxKeys and idle keys, handing over their state', async () => {
    let now = 0;
    const evictions: string[] = [];
    const parked = new Map<string, unknown>();
    const events: R[] = [
      { key: 'a', x: 1, timestamp: 0 },
      { key: 'b', x: 1, timestamp: 0 },
      { key: 'c', x: 1, timestamp: 0 },
      { key: 'a', x: 2, timestamp: 1 },
    ];
    const out = await collect(events, {
      maxKeys: 2,
      initialState: (k) => parked.get(k) as never,
      onEvict: (e) => {
        evictions.push(`${e.key}:${e.reason}`);
        parked.set(e.key, e.state);
      },
    });
    expect(evictions).toEqual(['a:lru', 'b:lru']);
    expect(out.at(-1)?.count).toBe(2); // 'a' came back from its parked state
    const idle: string[] = [];
    const src = new Subject<R>();
    const done = lastValueFrom(src.pipe(detectAnomalies<string>({ idleTtlMs: 100, clock: () => now, onEvict: (e) => idle.push(`${e.key}:${e.reason}`) }), toArray()));
    src.next({ key: 'x', x: 1 });
    now = 50;
    src.next({ key: 'y', x: 1 });
    now = 120;
    src.next({ key: 'y', x: 2 });
    src.complete();
    await done;
    expect(idle).toEqual(['x:idle']);
  });

  it('lets a control snapshot, restore and delete keys and checkpoint on demand', async () => {
    const control = new DetectorControl<string>();
    const store = new MemoryDetectorStore<string>();
    const src = new Subject<R>();
    const outs: AnomalyEvent<string>[] = [];
    src.pipe(detectAnomalies<string>({ control, checkpoint: { store } })).subscribe((e) => outs.push(e));
    for (const e of keyed('a', 6, 50)) src.next(e);
    const snap = control.snapshot('a')!;
    expect(snap.count).toBe(50);
    control.restore('b', snap);
    expect(control.keys()).toEqual(['a', 'b']);
    src.next({ key: 'a', x: 10.5, timestamp: 1 });
    src.next({ key: 'b', x: 10.5, timestamp: 1 });
    expect(outs[50].score).toBe(outs[51].score);
    expect(control.delete('b')).toBe(true);
    expect(control.stats()).toMatchObject({ keys: 1, events: 52, evicted: 1 });
    const cp = await control.checkpoint();
    expect(cp.keys.map((k) => k.key)).toEqual(['a']);
    src.complete();
    await new Promise((r) => setTimeout(r, 0)); // completion waits for the last checkpoint
    expect(store.saves).toBe(2);
    expect(() => control.keys()).toThrow(expect.objectContaining({ code: 'SEQ_DETECT_NOT_RUNNING' }));
  });

  it('forwards a source error, stops on unsubscribe and throws on bad options', async () => {
    const failing = new Observable<R>((s) => {
      s.next({ key: 'a', x: 1 });
      s.error(new Error('boom'));
    });
    await expect(lastValueFrom(failing.pipe(detectAnomalies()))).rejects.toThrow('boom');
    const src = new Subject<R>();
    const seen: number[] = [];
    const sub = src.pipe(detectAnomalies<string>()).subscribe((e) => seen.push(e.x));
    src.next({ key: 'a', x: 1 });
    sub.unsubscribe();
    src.next({ key: 'a', x: 2 });
    expect(seen).toEqual([1]);
    expect(() => detectAnomalies({ maxKeys: 0 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => detectAnomalies({ threshold: NaN })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
