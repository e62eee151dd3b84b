import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import type { StepEngine } from '../../src/kernels/autoStepper.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import { InvalidInputError } from '../../src/errors.js';
import {
  KeyedRecurrentControl,
  recurrentByKey,
  recurrentByKeyBatch,
  type Eviction,
  type KeyedBlock,
  type KeyedBlockRow,
  type KeyedCheckpoint,
  type KeyedEvent,
  type KeyedOutput,
  type KeyedOutputBlock,
} from '../../src/streams/index.js';

// recurrentByKeyBatch shares recurrentByKey's state table: the same events, sent as blocks or one
// by one (each block's events in one synchronous run), give bit-identical outputs on one engine.
const I = 4;
const native = onnxRuntimeStatus().available;
if (!native && process.env.CI === 'true') throw new Error(`CI must have onnxruntime-node: ${onnxRuntimeStatus().reason}`);
const engines: StepEngine[] = native ? ['wasm', 'native', 'js'] : ['wasm', 'js'];

/** Random blocks: sizes 0-40, keys drawn from `keys` (so repeats within a block), some resets, increasing offsets. */
function blocks(count: number, keys: number, seed: number): KeyedBlock<string>[] {
  const rnd = seededRandom(seed);
  let offset = 0;
  return Array.from({ length: count }, () => {
    const n = Math.floor(rnd() * 41);
    const ks = Array.from({ length: n }, () => `k${Math.floor(rnd() * keys)}`);
    const x = Float32Array.from({ length: n * I }, () => rnd() * 2 - 1);
    const reset = Array.from({ length: n }, () => rnd() < 0.03);
    const offsets = Array.from({ length: n }, () => offset++);
    return { keys: ks, x, reset, offsets };
  });
}

/** The block's rows as recurrentByKey events. */
function eventsOf(b: KeyedBlock<string>): KeyedEvent<string>[] {
  return Array.from(b.keys, (key, j) => ({ key, x: (b.x as Float32Array).slice(j * I, j * I + I), reset: b.reset?.[j] === true ? true : undefined, offset: b.offsets?.[j] }));
}

/** Per-event run: each block's events sent in one synchronous burst, then a microtask (one flush per block). */
async function perEvent(model: RecurrentModel, bs: KeyedBlock<string>[], options: Parameters<typeof recurrentByKey<string>>[1]): Promise<KeyedOutput<string>[]> {
  const subject = new Subject<KeyedEvent<string>>();
  const done = lastValueFrom(subject.pipe(recurrentByKey<string>(model, options), toArray()));
  for (const b of bs) {
    for (const e of eventsOf(b)) subject.next(e);
    await Promise.resolve();
  }
  subject.complete();
  return done;
}

/** Flattens output blocks into per-row records comparable with per-event outputs. */
function rowsOf(outs: KeyedOutputBlock<string>[]): Array<{ key: string; y: number[]; offset: number | undefined }> {
  return outs.flatMap((o) => Array.from({ length: o.rows }, (_, j) => ({ key: o.keys[j], y: Array.from(o.y.subarray(j * o.yLen, (j + 1) * o.yLen)), offset: o.offsets?.[j] })));
}

const flat = (outs: KeyedOutput<string>[]) => outs.map((o) => ({ key: o.key, y: Array.from(o.y), offset: o.offset }));

describe('recurrentByKeyBatch: same results as recurrentByKey', () => {
  afterEach(() => {
    delete process.env.SEQSTREAM_ENGINE;
  });
  for (const engine of engines) {
    it(`${engine}: bit-identical to per-event on random blocks (repeated keys, resets, chunks of maxBatch)`, async () => {
      const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 12, numLayers: 2, head: { outputSize: 3 }, seed: 4 });
      const bs = blocks(40, 25, 11);
      for (const maxBatch of [7, 64]) {
        const want = flat(await perEvent(model, bs, { engine, maxBatch }));
        const got = await lastValueFrom(from(bs).pipe(recurrentByKeyBatch<string>(model, { engine, maxBatch }), toArray()));
        expect(got).toHaveLength(bs.length); // one output block per input block, empty ones included
        got.forEach((o, i) => expect(o.rows).toBe(bs[i].keys.length));
        expect(rowsOf(got)).toEqual(want);
      }
    });
  }

  it('a key repeated within a block is one stream: its rows step in block order (also across a maxBatch cut)', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: I, hiddenSize: 6, seed: 9 });
    const rnd = seededRandom(3);
    const keys = ['a', 'b', 'a', 'a', 'c', 'b', 'a'];
    const x = Float32Array.from({ length: keys.length * I }, () => rnd() - 0.5);
    const [out] = await lastValueFrom(from([{ keys, x }]).pipe(recurrentByKeyBatch<string>(model, { maxBatch: 3, engine: 'wasm' }), toArray()));
    // Reference: each key alone, in block order, with the model's own step (float64).
    const states = new Map<string, ReturnType<RecurrentModel['createState']>>();
    keys.forEach((k, j) => {
      if (!states.has(k)) states.set(k, model.createState());
      const want = model.step(states.get(k)!, Array.from(x.subarray(j * I, j * I + I)));
      const got = out.y.subarray(j * out.yLen, (j + 1) * out.yLen);
      want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-5));
    });
    expect(out.keys).toBe(keys); // every row stepped: the input's own array
  });

  it("emit 'all' gives h per row; y stays valid after later blocks (a fresh buffer per block)", async () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 5, head: { outputSize: 2 }, seed: 2 });
    const bs = blocks(6, 4, 5);
    const subject = new Subject<KeyedBlock<string>>();
    const outs: KeyedOutputBlock<string>[] = [];
    const copies: number[][] = [];
    subject.pipe(recurrentByKeyBatch<string>(model, { emit: 'all' })).subscribe((o) => {
      outs.push(o);
      copies.push(Array.from(o.y));
    });
    for (const b of bs) subject.next(b);
    outs.forEach((o, i) => {
      expect(Array.from(o.y)).toEqual(copies[i]);
      expect(o.h?.length).toBe(o.rows * 5);
    });
    const want = await perEvent(model, bs, { emit: 'all' });
    expect(outs.flatMap((o) => Array.from({ length: o.rows }, (_, j) => Array.from(o.h!.subarray(j * 5, j * 5 + 5))))).toEqual(want.map((o) => Array.from(o.h!)));
  });
});

describe('recurrentByKeyBatch: bad rows and bad blocks', () => {
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 6, head: { outputSize: 1 }, seed: 1 });
  const row = (v: number): number[] => [v, v / 2, -v, 0.25];

  it('a bad row goes to onError with its code and row; the other rows of the block step as if it were not there', async () => {
    const errors: Array<{ code: string; row: number; key: unknown }> = [];
    const good = { keys: ['a', 'b', 'c'], x: new Float32Array([...row(1), ...row(2), ...row(3)]), offsets: [10, 11, 12] };
    const x = new Float32Array([...row(1), ...row(9), ...row(2), ...row(9), ...row(3), ...row(9), ...row(9)]);
    x[1 * I + 2] = Number.NaN;
    x[3 * I] = Number.POSITIVE_INFINITY;
    const bad: KeyedBlock<string | null> = { keys: ['a', 'a', 'b', 'b', 'c', null, 'zz'], x, offsets: [10, 20, 11, 21, 12, 22, 23] };
    const [out] = await lastValueFrom(
      from([bad]).pipe(
        recurrentByKeyBatch<string | null>(model, {
          knownKeys: new Set(['a', 'b', 'c']),
          onError: (e, input) => {
            const r = input as KeyedBlockRow<string | null>;
            expect(r.block).toBe(bad);
            errors.push({ code: e.code, row: r.row, key: r.key });
          },
        }),
        toArray(),
      ),
    );
    expect(errors).toEqual([
      { code: 'SEQ_INPUT_NON_FINITE', row: 1, key: 'a' },
      { code: 'SEQ_INPUT_NON_FINITE', row: 3, key: 'b' },
      { code: 'SEQ_KEYED_MISSING_KEY', row: 5, key: undefined },
      { code: 'SEQ_KEYED_UNKNOWN_KEY', row: 6, key: 'zz' },
    ]);
    expect(out.rows).toBe(3);
    expect(Array.from(out.inputRows)).toEqual([0, 2, 4]);
    expect(out.keys).toEqual(['a', 'b', 'c']);
    expect(Array.from(out.offsets!)).toEqual([10, 11, 12]);
    const [ref] = await lastValueFrom(from([good]).pipe(recurrentByKeyBatch<string>(model), toArray()));
    expect(Array.from(out.y)).toEqual(Array.from(ref.y));
  });

  it('a malformed block is reported once with the block and emits nothing; the next block goes on', async () => {
    const errors: Array<[string, unknown]> = [];
    const wrongLength = { keys: ['a', 'b'], x: new Float32Array(2 * I - 1) };
    const inputs: unknown[] = [wrongLength, null, { keys: 'ab', x: new Float32Array(2 * I) }, { keys: ['a'], x: 'nope' }, { keys: ['a'], x: new Float32Array(I), reset: [true, false] }, { keys: ['a'], x: new Float32Array(I), offsets: 3 }, { keys: ['a'], x: new Float32Array(row(1)) }];
    const outs = await lastValueFrom(from(inputs as KeyedBlock<string>[]).pipe(recurrentByKeyBatch<string>(model, { onError: (e, input) => errors.push([e.code, input]) }), toArray()));
    expect(errors.map(([c]) => c)).toEqual(['SEQ_INPUT_SHAPE', 'SEQ_INPUT_TYPE', 'SEQ_INPUT_TYPE', 'SEQ_INPUT_TYPE', 'SEQ_INPUT_SHAPE', 'SEQ_KEYED_OFFSET']);
    expect(errors[0][1]).toBe(wrongLength);
    expect(outs).toHaveLength(1);
    expect(outs[0].keys).toEqual(['a']);
  });

  it("invalidInput 'error' ends the stream with the row's coded error", async () => {
    const x = new Float32Array(2 * I);
    x[5] = Number.NaN;
    const run = lastValueFrom(from([{ keys: ['a', 'b'], x }]).pipe(recurrentByKeyBatch<string>(model, { invalidInput: 'error' })));
    await expect(run).rejects.toBeInstanceOf(InvalidInputError);
    await expect(run).rejects.toMatchObject({ code: 'SEQ_INPUT_NON_FINITE', details: { row: 1, key: 'b' } });
  });

  it('a block whose rows are all rejected still gets its (empty) output block', async () => {
    const outs = await lastValueFrom(from([{ keys: [undefined as unknown as string], x: new Float32Array(I) }]).pipe(recurrentByKeyBatch<string>(model, { onError: () => undefined }), toArray()));
    expect(outs.map((o) => [o.rows, o.y.length, o.inputRows.length])).toEqual([[0, 0, 0]]);
  });

  it('knownKeys is validated at creation', () => {
    expect(() => recurrentByKeyBatch(model, { knownKeys: ['a'] as never })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});

describe('recurrentByKeyBatch: the shared state table', () => {
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 8, head: { outputSize: 2 }, seed: 6 });

  it('snapshot/restore between blocks and a checkpoint resumed mid-stream give what per-event recurrentByKey gives', async () => {
    const bs = blocks(30, 12, 21);
    // Per-event reference, with the same control calls at the same points (after block 10: copy k1 into k2).
    const refControl = new KeyedRecurrentControl<string>();
    const refSubject = new Subject<KeyedEvent<string>>();
    const refDone = lastValueFrom(refSubject.pipe(recurrentByKey<string>(model, { control: refControl, engine: 'wasm' }), toArray()));
    let refCheckpoint: KeyedCheckpoint<string> | undefined;
    for (let i = 0; i < bs.length; i++) {
      for (const e of eventsOf(bs[i])) refSubject.next(e);
      await Promise.resolve();
      if (i === 10) refControl.restore('k2', refControl.snapshot('k1') ?? refControl.snapshot(refControl.keys()[0])!);
      if (i === 20) refCheckpoint = refControl.capture();
    }
    refSubject.complete();
    const want = flat(await refDone);

    const control = new KeyedRecurrentControl<string>();
    const subject = new Subject<KeyedBlock<string>>();
    const outs: KeyedOutputBlock<string>[] = [];
    subject.pipe(recurrentByKeyBatch<string>(model, { control, engine: 'wasm' })).subscribe((o) => outs.push(o));
    let cp: KeyedCheckpoint<string> | undefined;
    for (let i = 0; i <= 20; i++) {
      subject.next(bs[i]);
      if (i === 10) control.restore('k2', control.snapshot('k1') ?? control.snapshot(control.keys()[0])!);
      if (i === 20) cp = control.capture();
    }
    expect(cp).toEqual(refCheckpoint);
    subject.complete();
    // Resume the checkpoint in a new subscription and replay the rest.
    const rest = await lastValueFrom(from(bs.slice(21)).pipe(recurrentByKeyBatch<string>(model, { resumeFrom: cp, engine: 'wasm' }), toArray()));
    expect(rowsOf([...outs, ...rest])).toEqual(want);
    expect(cp!.offset).toBe(Math.max(...bs.slice(0, 21).flatMap((b) => Array.from(b.offsets ?? [], Number))));
  });

  it('LRU eviction, onEvict and the reset stream behave as in recurrentByKey', async () => {
    const bs = blocks(20, 10, 8);
    const resetAt = 7;
    const run = async (batch: boolean) => {
      const evicted: Array<[string, string, number | undefined]> = [];
      const resets = new Subject<string>();
      const options = { maxKeys: 6, maxBatch: 6, engine: 'wasm' as const, reset: resets, onEvict: (e: Eviction<string>) => evicted.push([e.key, e.reason, e.offset]) };
      let rows: ReturnType<typeof rowsOf>;
      if (batch) {
        const subject = new Subject<KeyedBlock<string>>();
        const outs: KeyedOutputBlock<string>[] = [];
        subject.pipe(recurrentByKeyBatch<string>(model, options)).subscribe((o) => outs.push(o));
        bs.forEach((b, i) => {
          subject.next(b);
          if (i === resetAt) resets.next('k3');
        });
        rows = rowsOf(outs);
      } else {
        const subject = new Subject<KeyedEvent<string>>();
        const outs: KeyedOutput<string>[] = [];
        subject.pipe(recurrentByKey<string>(model, options)).subscribe((o) => outs.push(o));
        for (let i = 0; i < bs.length; i++) {
          for (const e of eventsOf(bs[i])) subject.next(e);
          await Promise.resolve();
          if (i === resetAt) resets.next('k3');
        }
        rows = flat(outs);
      }
      return { rows, evicted };
    };
    const a = await run(false);
    const b = await run(true);
    expect(b.evicted.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it('a block sent from inside an emission waits for the current one: outputs keep input order', () => {
    const subject = new Subject<KeyedBlock<string>>();
    const seen: string[] = [];
    const second = { keys: ['b'], x: new Float32Array(I) };
    subject.pipe(recurrentByKeyBatch<string>(model)).subscribe((o) => {
      seen.push(Array.from(o.keys).join(','));
      if (o.keys[0] === 'a') subject.next(second);
    });
    subject.next({ keys: ['a', 'a'], x: new Float32Array(2 * I) });
    subject.next({ keys: ['c'], x: new Float32Array(I) });
    expect(seen).toEqual(['a,a', 'b', 'c']);
  });
});
