import { from, lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  detectAnomalies, detectAnomaliesParallel, MemoryDetectorStore,
  type AnomalyDetectorJSON, type AnomalyEvent, type DetectAnomaliesOptions, type DetectAnomaliesParallelOptions, type DetectorCheckpoint, type SensorReading,
} from '../../src/detection/index.js';
import { DetectorControl } from '../../src/detection/detectorControl.js';
import { sineSeries } from './series.js';

type R = SensorReading<string>;
const one = (events: unknown[], options: DetectAnomaliesOptions<string> = {}) =>
  lastValueFrom(from(events as R[]).pipe(detectAnomalies<string>({ learningPeriod: 30, ...options }), toArray()));
const many = (events: unknown[], options: DetectAnomaliesParallelOptions<string> = {}) =>
  lastValueFrom(from(events as R[]).pipe(detectAnomaliesParallel<string>({ learningPeriod: 30, threads: 2, ...options }), toArray()));
const keyed = (key: string, seed: number, n = 160): R[] => sineSeries(n, seed, n - 20, 5).map((r) => ({ key, ...r }));
/** Keys' readings interleaved unevenly (key i gets a reading on every (i % 3 + 1)-th turn). */
function interleaved(keys: number, n: number): R[] {
  const series = Array.from({ length: keys }, (_, i) => keyed(`k${i}`, i + 1, n));
  const out: R[] = [];
  for (let turn = 0; out.length < keys * n; turn++) {
    series.forEach((s, i) => {
      if (turn % (i % 3 + 1) === 0 && s.length) out.push(s.shift() as R);
    });
  }
  return out;
}
/** An output without its input event (compared by identity separately). */
const plain = (e: AnomalyEvent<string>) => ({ ...e, event: undefined });

describe('detectAnomaliesParallel', () => {
  it('emits, in arrival order, exactly what detectAnomalies emits, with each input event attached', async () => {
    const events = interleaved(7, 120);
    const expected = await one(events, { threshold: 0.3 });
    for (const threads of [1, 2, 3]) {
      const out = await many(events, { threshold: 0.3, threads });
      expect(out.map(plain)).toEqual(expected.map(plain));
      out.forEach((e, i) => expect(e.event).toBe(events[i]));
    }
    expect(expected.some((e) => e.alert)).toBe(true);
  });

  it('completes empty on an empty source, and with more threads than keys', async () => {
    expect(await many([])).toEqual([]);
    const events = keyed('a', 1, 50);
    expect((await many(events, { threads: 4 })).map(plain)).toEqual((await one(events)).map(plain));
  });

  it('gives per-key value ranges and learning periods to their keys only', async () => {
    const events = interleaved(4, 100);
    const options = { rangeOf: (k: string) => (k === 'k1' ? { min: 0, max: 30 } : undefined), learningPeriodOf: (k: string) => (k === 'k2' ? 10 : undefined) };
    const out = await many(events, options);
    expect(out.map(plain)).toEqual((await one(events, options)).map(plain));
    expect(out.map(plain)).not.toEqual((await one(events)).map(plain));
  });

  it('reports bad readings with a code at once, skips them and every key goes on', async () => {
    const good = interleaved(3, 80);
    const withBad: unknown[] = [...good];
    withBad.splice(40, 0, { key: 'k0', x: NaN, timestamp: 1 }, { key: 'k1', x: 'twelve' }, { x: 4 }, null, { key: 'k2', x: [1], timestamp: Infinity });
    const errors: string[] = [];
    const out = await many(withBad, { onError: (e) => errors.push(e.code) });
    expect(errors).toEqual(['SEQ_DETECT_BAD_VALUE', 'SEQ_DETECT_BAD_VALUE', 'SEQ_DETECT_MISSING_KEY', 'SEQ_DETECT_MISSING_KEY', 'SEQ_DETECT_BAD_TIMESTAMP']);
    expect(out.map(plain)).toEqual((await one(good)).map(plain));
    await expect(many(withBad, { invalidInput: 'error' })).rejects.toMatchObject({ code: 'SEQ_DETECT_BAD_VALUE' });
  });

  it('takes the same checkpoints as detectAnomalies, and resumed from one scores as a run that never stopped', async () => {
    const events = interleaved(5, 60);
    const saved = (list: DetectorCheckpoint<string>[]) => ({ save: async (cp: DetectorCheckpoint<string>) => void list.push(JSON.parse(JSON.stringify(cp))), load: async () => list.at(-1) });
    const ours: DetectorCheckpoint<string>[] = [];
    const theirs: DetectorCheckpoint<string>[] = [];
    const uninterrupted = await many(events, { checkpoint: { store: saved(ours), everyEvents: 70 } });
    await one(events, { checkpoint: { store: saved(theirs), everyEvents: 70 } });
    expect(ours.length).toBe(Math.floor(events.length / 70) + 1);
    expect(ours).toEqual(theirs);
    const cp = ours[2];
    expect(cp.offset).toBe(209);
    const rest = await many(events.slice(cp.offset + 1), { resumeFrom: cp });
    expect(rest.map(plain)).toEqual(uninterrupted.slice(210).map(plain));
  });

  it('completes only after its last checkpoint is durable, and rejects a checkpoint without a store', async () => {
    const store = new MemoryDetectorStore<string>();
    let savesAtComplete = -1;
    await new Promise<void>((done, fail) => {
      from(interleaved(2, 30)).pipe(detectAnomaliesParallel<string>({ threads: 2, checkpoint: { store } })).subscribe({ complete: () => { savesAtComplete = store.saves; done(); }, error: fail });
    });
    expect(savesAtComplete).toBe(1);
    expect((await store.load())?.keys.map((k) => k.key).sort()).toEqual(['k0', 'k1']);
    const noStore = { checkpoint: { everyEvents: 10 } } as unknown as DetectAnomaliesParallelOptions<string>;
    await expect(many(interleaved(2, 10), noStore)).rejects.toMatchObject({ code: 'SEQ_DETECT_NO_STORE' });
  });

  it('evicts by maxKeys and idle time as detectAnomalies does, handing over the same states, and takes keys back from them', async () => {
    const run = async (parallel: boolean) => {
      let now = 0;
      const parked = new Map<string, AnomalyDetectorJSON>();
      const evictions: string[] = [];
      const events = interleaved(5, 40);
      const options: DetectAnomaliesOptions<string> = {
        maxKeys: 4, idleTtlMs: 7, clock: () => now++,
        initialState: (k) => parked.get(k),
        onEvict: (e) => {
          evictions.push(`${e.key}:${e.reason}:${e.state.count}`);
          parked.set(e.key, e.state);
        },
      };
      const out = parallel ? await many(events, options) : await one(events, options);
      return { out: out.map(plain), evictions, parked: [...parked] };
    };
    const ours = await run(true);
    const theirs = await run(false);
    expect(ours.evictions.some((e) => e.includes(':lru:')) && ours.evictions.some((e) => e.includes(':idle:'))).toBe(true);
    expect(ours).toEqual(theirs);
  });

  it('skips a reading whose initialState does not load, with a code, and the key starts on the next one', async () => {
    const errors: string[] = [];
    const events = keyed('a', 1, 40);
    let calls = 0;
    const out = await many(events, { initialState: () => (calls++ === 0 ? ({ format: 'nonsense' } as unknown as AnomalyDetectorJSON) : undefined), onError: (e) => errors.push(e.code) });
    expect(errors).toEqual(['SEQ_DETECT_INITIAL_STATE']);
    expect(out.map(plain)).toEqual((await one(events.slice(1))).map(plain));
  });

  it('emits on a live source without waiting for it to complete, forwards its error and stops on unsubscribe', async () => {
    const src = new Subject<R>();
    const seen: AnomalyEvent<string>[] = [];
    const sub = src.pipe(detectAnomaliesParallel<string>({ threads: 2 })).subscribe((e) => seen.push(e));
    const events = keyed('a', 2, 20);
    for (const e of events.slice(0, 10)) src.next(e);
    await new Promise((r) => setTimeout(r, 0));
    for (let i = 0; i < 200 && seen.length < 10; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.map((e) => e.event)).toEqual(events.slice(0, 10));
    sub.unsubscribe();
    for (const e of events.slice(10)) src.next(e);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(10);
    const failing = new Observable<R>((s) => {
      s.next({ key: 'a', x: 1 });
      s.error(new Error('boom'));
    });
    await expect(lastValueFrom(failing.pipe(detectAnomaliesParallel({ threads: 1 })))).rejects.toThrow('boom');
  });

  it('lets a control snapshot, restore and delete keys and capture them, exactly at that point of the stream', async () => {
    const run = async (parallel: boolean) => {
      const control = new DetectorControl<string>();
      const src = new Subject<R>();
      const options = { control, learningPeriod: 20, onEvict: (e: { key: string; reason: string }) => void log.push(`${e.key}:${e.reason}`) };
      const log: string[] = [];
      const outs = lastValueFrom(src.pipe(parallel ? detectAnomaliesParallel<string>({ threads: 2, ...options }) : detectAnomalies<string>(options), toArray()));
      const events = interleaved(3, 50);
      for (const e of events.slice(0, 100)) src.next(e);
      const snap = control.snapshot('k1') as AnomalyDetectorJSON;
      log.push(`k1 at ${snap.count}`);
      control.restore('k9', snap);
      control.restore('k0', snap);
      for (const e of events.slice(100)) src.next({ ...e, key: e.key === 'k1' ? 'k9' : e.key });
      expect(control.delete('k2')).toBe(true);
      expect(control.delete('nope')).toBe(false);
      const cp = control.capture();
      log.push(`keys ${control.keys().join(',')}`, `stats ${JSON.stringify(control.stats())}`);
      src.complete();
      return { outs: (await outs).map(plain), cp, log };
    };
    const ours = await run(true);
    expect(ours.log).toContain('k2:deleted');
    expect(ours).toEqual(await run(false));
  });

  it('refuses bad options', () => {
    for (const threads of [0, 1.5, 65]) expect(() => detectAnomaliesParallel({ threads })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => detectAnomaliesParallel({ threshold: NaN })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
