import { EMPTY, NEVER, Observable, Subject, from, lastValueFrom, take, throwError, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { standardize, StandardizeControl, type StandardizeOptions, type StandardizeSnapshot } from '../../src/streams/standardize.js';
import type { SeqstreamError } from '../../src/errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const run = (values: unknown[], options: StandardizeOptions = {}) => lastValueFrom((from(values) as Observable<any>).pipe(standardize(options), toArray())) as Promise<unknown[]>;

/** Two-pass reference: z of the last value of each prefix, population variance. */
function reference(xs: number[], epsilon = 1e-8): number[] {
  return xs.map((_, i) => {
    const p = xs.slice(0, i + 1);
    const mean = p.reduce((a, b) => a + b, 0) / p.length;
    const v = p.reduce((a, b) => a + (b - mean) ** 2, 0) / p.length;
    return (xs[i] - mean) / Math.sqrt(v + epsilon);
  });
}

describe('standardize', () => {
  it('matches a two-pass computation per prefix, also far from zero (Welford is stable)', async () => {
    const xs = Array.from({ length: 200 }, (_, i) => 1e9 + Math.sin(i) * 3 + (i % 7));
    const out = (await run(xs.map((v) => [v, 5e8 - 2 * v]), { clip: Infinity })) as Float32Array[];
    const ref = reference(xs);
    out.forEach((z, i) => {
      expect(z).toBeInstanceOf(Float32Array);
      expect(z[0]).toBeCloseTo(ref[i], 4);
      expect(z[1]).toBeCloseTo(-ref[i], 4);
    });
  });

  it('keeps statistics per key and replaces x on events, keeping other fields', async () => {
    const out = (await run([
      { key: 'a', x: [20, 1000], line: 1 },
      { key: 'a', x: [22, 1010], line: 2 },
      { key: 'b', x: [5, 5], line: 3 },
      { key: 'b', x: [7, 3], line: 4 },
    ])) as { key: string; x: Float32Array; line: number }[];
    expect(out.map((e) => [e.key, e.line, Array.from(e.x).map((v) => Math.round(v * 1e4) / 1e4)])).toEqual([
      ['a', 1, [0, 0]],
      ['a', 2, [1, 1]],
      ['b', 3, [0, 0]],
      ['b', 4, [1, -1]],
    ]);
  });

  it('warmup holds back the first readings per key; clip bounds outliers', async () => {
    const xs = [1, 2, 1, 2, 1, 2, 1000];
    const out = (await run(xs.map((v) => [v]), { warmup: 3, clip: 2 })) as Float32Array[];
    expect(out).toHaveLength(4);
    expect(out[3][0]).toBe(2);
  });

  it('freezeAfter, freeze and control freeze/unfreeze stop and resume updates', async () => {
    const a = (await run([[0], [2], [100]], { freezeAfter: 2, clip: Infinity })) as Float32Array[];
    // mean 1, std 1 from the first two; the third is scaled but not learned.
    expect(a[2][0]).toBeCloseTo(99, 4);

    const control = new StandardizeControl();
    const input = new Subject<number[]>();
    const out: number[] = [];
    const sub = input.pipe(standardize({ control, clip: Infinity })).subscribe((z) => out.push(z[0]));
    input.next([0]);
    input.next([2]);
    control.freeze();
    input.next([4]);
    expect(control.snapshot().keys[0]).toEqual({ key: '', count: 2, mean: [1], m2: [2] });
    control.unfreeze();
    input.next([4]);
    expect(control.snapshot().keys[0].count).toBe(3);
    expect(out[2]).toBeCloseTo(3, 4);
    sub.unsubscribe();
    expect(() => control.snapshot()).toThrow(expect.objectContaining({ code: 'SEQ_CONTROL_DETACHED' }));
  });

  it('snapshot round-trips through JSON and restores into a new subscription', async () => {
    const control = new StandardizeControl();
    const input = new Subject<{ key: string; x: number[] }>();
    const first: number[] = [];
    const sub = input.pipe(standardize({ control })).subscribe((e) => first.push(e.x[0]));
    for (const v of [3, 5, 9, 1]) input.next({ key: 'k', x: [v] });
    const snap = JSON.parse(JSON.stringify(control.snapshot())) as StandardizeSnapshot;
    input.next({ key: 'k', x: [4] });
    sub.unsubscribe();
    const resumed = (await run([{ key: 'k', x: [4] }], { initialState: snap })) as { x: Float32Array }[];
    expect(resumed[0].x[0]).toBe(first[4]);
    // Frozen restored statistics scale without learning.
    const frozen = (await run([[1], [1]].map((x) => ({ key: 'k', x })), { initialState: snap, freeze: true })) as { x: Float32Array }[];
    expect(frozen[0].x[0]).toBe(frozen[1].x[0]);
  });

  it('rejects malformed snapshots with SEQ_STATE_FORMAT and bad options with SEQ_INVALID_OPTION, synchronously', () => {
    const bad = [null, { format: 'x', version: 1, keys: [] }, { format: 'seqstream-standardize', version: 1, keys: [{ key: 'a', count: 1, mean: [1], m2: [-1] }] }];
    for (const initialState of bad) expect(() => standardize({ initialState: initialState as never })).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    for (const options of [{ warmup: -1 }, { epsilon: -1 }, { clip: 0 }, { freezeAfter: 1.5 }, { maxKeys: 0 }, { invalidInput: 'drop' }, { control: {} }]) {
      expect(() => standardize(options as never)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    }
  });

  it('bad input errors once with its code, or is skipped without touching the statistics', async () => {
    await expect(run([[1, 2], [1]])).rejects.toMatchObject({ code: 'SEQ_INPUT_SHAPE' });
    await expect(run([[NaN]])).rejects.toMatchObject({ code: 'SEQ_INPUT_NON_FINITE' });
    await expect(run(['12'])).rejects.toMatchObject({ code: 'SEQ_INPUT_TYPE' });
    await expect(run([[]])).rejects.toMatchObject({ code: 'SEQ_INPUT_TYPE' });
    await expect(run([{ key: 'a', x: [1] }, { key: 'b', x: [1] }], { maxKeys: 1 })).rejects.toMatchObject({ code: 'SEQ_STANDARDIZE_TOO_MANY_KEYS' });
    const skipped: string[] = [];
    const out = (await run([[0], [Infinity], [2], [1, 1]], { invalidInput: 'skip', onError: (e: SeqstreamError) => skipped.push(e.code), clip: Infinity })) as Float32Array[];
    expect(skipped).toEqual(['SEQ_INPUT_NON_FINITE', 'SEQ_INPUT_SHAPE']);
    expect(out.map((z) => z[0])).toEqual([0, 1]);
  });

  it('a throwing onError ends the stream with that error', async () => {
    const boom = new Error('boom');
    await expect(run([[NaN]], { invalidInput: 'skip', onError: () => { throw boom; } })).rejects.toBe(boom);
  });

  it('empty source completes, source errors pass through, never-ending source can be unsubscribed', async () => {
    expect(await lastValueFrom(EMPTY.pipe(standardize(), toArray()))).toEqual([]);
    await expect(lastValueFrom(throwError(() => new Error('up')).pipe(standardize()))).rejects.toThrow('up');
    const control = new StandardizeControl();
    const sub = NEVER.pipe(standardize({ control })).subscribe();
    expect(control.snapshot().keys).toEqual([]);
    // A second live subscription on the same control is refused.
    await expect(lastValueFrom(NEVER.pipe(standardize({ control })))).rejects.toMatchObject({ code: 'SEQ_CONTROL_IN_USE' });
    sub.unsubscribe();
    const firstTwo = await lastValueFrom(from([[1], [2], [3]]).pipe(standardize(), take(2), toArray()));
    expect(firstTwo).toHaveLength(2);
  });

  it('each subscription has its own statistics', async () => {
    const op = from([[1], [3]]).pipe(standardize({ clip: Infinity }));
    const a = await lastValueFrom(op.pipe(toArray()));
    const b = await lastValueFrom(op.pipe(toArray()));
    expect(b).toEqual(a);
  });
});
