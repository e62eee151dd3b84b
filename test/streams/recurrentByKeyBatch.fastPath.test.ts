import { lastValueFrom, map, Subject, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import type { StepEngine } from '../../src/kernels/autoStepper.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import type { InvalidInputError } from '../../src/errors.js';
import { KeyedRecurrentControl, recurrentByKey, recurrentByKeyBatch, type KeyedBlock, type KeyedBlockRow, type KeyedEvent, type KeyedOutput, type KeyedOutputBlock } from '../../src/streams/index.js';

// The fast path of recurrentByKeyBatch (every key held and distinct, every value finite: no queue,
// rows remembered from the previous block, inputs checked in SIMD where the step reads them) must
// give the bits the checked path and per-event recurrentByKey give, and must notice every change
// that makes a remembered row wrong: keys mutated in place, a key deleted or evicted, a bad value.
const I = 3;
const native = onnxRuntimeStatus().available;
const engines: StepEngine[] = native ? ['wasm', 'native', 'js'] : ['wasm', 'js'];

type Step = { block: KeyedBlock<string> } | { act: (c: KeyedRecurrentControl<string>) => void };

function block(keys: string[], seed: number, bad?: { row: number; value: number }): KeyedBlock<string> {
  const rnd = seededRandom(seed);
  const x = Float32Array.from({ length: keys.length * I }, () => rnd() * 2 - 1);
  if (bad) x[bad.row * I + 1] = bad.value;
  return { keys, x };
}

/** The steps through per-event recurrentByKey (a block's rows in one synchronous run); rows with a bad value are left out, as the error channel drops them. */
type Emit = 'output' | 'hidden' | 'all';
type Row = { key: string; y: number[]; h?: number[] };

async function perEvent(model: RecurrentModel, steps: Step[], engine: StepEngine, maxBatch: number, emit: Emit): Promise<Row[]> {
  const control = new KeyedRecurrentControl<string>();
  const subject = new Subject<KeyedEvent<string>>();
  const done = lastValueFrom(subject.pipe(recurrentByKey<string>(model, { engine, maxBatch, emit, control, onError: () => undefined }), toArray()));
  for (const s of steps) {
    if ('act' in s) {
      s.act(control);
      continue;
    }
    const { keys, x } = s.block;
    for (let j = 0; j < keys.length; j++) subject.next({ key: keys[j], x: (x as Float32Array).slice(j * I, j * I + I) });
    await Promise.resolve();
  }
  subject.complete();
  return (await done).map((o: KeyedOutput<string>) => ({ key: o.key, y: Array.from(o.y), ...(o.h ? { h: Array.from(o.h) } : {}) }));
}

async function batched(model: RecurrentModel, steps: Step[], engine: StepEngine, maxBatch: number, emit: Emit, errors: Array<{ code: string; row: number }>): Promise<Row[]> {
  const control = new KeyedRecurrentControl<string>();
  const subject = new Subject<KeyedBlock<string>>();
  const onError = (e: InvalidInputError, input: unknown): void => {
    errors.push({ code: e.code, row: (input as KeyedBlockRow<string>).row });
  };
  // Read each output as it comes: its keys are the input's own array, which the steps mutate later.
  const done = lastValueFrom(subject.pipe(recurrentByKeyBatch<string>(model, { engine, maxBatch, emit, control, onError }), map(rowsOf), toArray()));
  for (const s of steps) {
    if ('act' in s) s.act(control);
    else subject.next(s.block);
  }
  subject.complete();
  return (await done).flat();
}

function rowsOf(o: KeyedOutputBlock<string>): Row[] {
  const H = o.h ? o.h.length / o.rows : 0;
  return Array.from({ length: o.rows }, (_, j) => ({ key: o.keys[j] as string, y: Array.from(o.y.subarray(j * o.yLen, (j + 1) * o.yLen)), ...(o.h ? { h: Array.from(o.h.subarray(j * H, (j + 1) * H)) } : {}) }));
}

describe('recurrentByKeyBatch fast path', () => {
  afterEach(() => {
    delete process.env.SEQSTREAM_ENGINE;
  });
  for (const engine of engines) {
    it(`${engine}: same bits as per-event (y, and h with emit 'all') across remembered rows, keys mutated in place, deletes and bad values`, async () => {
      const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 8, head: { outputSize: 2 }, seed: 3 });
      const makeSteps = (): Step[] => {
        const shared = Array.from({ length: 40 }, (_, k) => `k${k}`); // one array, sent again and mutated in place between blocks
        return [
        { block: block(shared, 1) }, // new keys: the checked way
        { block: block(shared, 2) }, // all held: fast, rows resolved
        { block: block(shared, 3) }, // same array: remembered rows
        {
          act: () => {
            [shared[0], shared[39]] = [shared[39], shared[0]]; // same array object, new order
          },
        },
        { block: block(shared, 4) },
        { act: (c) => c.delete('k5') }, // a remembered row's key leaves: must start afresh, never step k5's old row
        { block: block(shared, 5) },
        { block: block(shared, 6, { row: 37, value: Number.NaN }) }, // in the second chunk of maxBatch 16
        { block: block(shared, 7, { row: 2, value: Number.POSITIVE_INFINITY }) },
        { block: block(shared.slice(0, 20), 8) }, // a shorter key list
        { block: block(shared, 9) },
        { block: block([...shared.slice(0, 10), 'new1', 'new2'], 10) }, // new keys: checked way
        { block: block(shared, 11) },
        ];
      };
      for (const [maxBatch, emit] of [
        [16, 'output'],
        [64, 'output'],
        [64, 'hidden'],
        [16, 'all'],
      ] as const) {
        const want = await perEvent(model, makeSteps(), engine, maxBatch, emit);
        const errors: Array<{ code: string; row: number }> = [];
        const got = await batched(model, makeSteps(), engine, maxBatch, emit, errors);
        expect(got, `maxBatch ${maxBatch}, emit ${emit}`).toEqual(want);
        expect(errors).toEqual([
          { code: 'SEQ_INPUT_NON_FINITE', row: 37 },
          { code: 'SEQ_INPUT_NON_FINITE', row: 2 },
        ]);
      }
    });
  }

  it('LRU order and eviction match per-event when remembered rows skip their touches; an evicted key starts afresh (wasm)', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: I, hiddenSize: 5, seed: 9 });
    const a = ['a', 'b', 'c'];
    // Blocks 2 and 3 go the fast way (3 repeats 2's rows on an unchanged LRU order, so it skips
    // the touches); block 4 (the same keys, 'c' with a NaN) goes the checked way, which touches
    // 'a' and 'b' only, so 'c' is least recent; block 5 must touch again (the order changed) so
    // that 'a' is least recent once more and 'd' evicts it.
    const steps: Step[] = [a, a, a, a, a, ['d'], a, a].map((keys, i) => ({ block: block(keys, i + 1, i === 3 ? { row: 2, value: Number.NaN } : undefined) }));
    // maxKeys 3: 'd' evicts 'a' (least recently used); the next block's 'a' must not reuse a's old row.
    const run = async (batch: boolean): Promise<Array<{ key: string; y: number[] }>> => {
      const evicted: string[] = [];
      const onEvict = (e: { key: string }): void => {
        evicted.push(e.key);
      };
      let out: Array<{ key: string; y: number[] }>;
      if (batch) {
        const subject = new Subject<KeyedBlock<string>>();
        const done = lastValueFrom(subject.pipe(recurrentByKeyBatch<string>(model, { engine: 'wasm', maxKeys: 3, onEvict, onError: () => undefined }), toArray()));
        for (const s of steps) if ('block' in s) subject.next(s.block);
        subject.complete();
        out = (await done).flatMap(rowsOf);
      } else {
        const subject = new Subject<KeyedEvent<string>>();
        const done = lastValueFrom(subject.pipe(recurrentByKey<string>(model, { engine: 'wasm', maxKeys: 3, onEvict, onError: () => undefined }), toArray()));
        for (const s of steps) {
          if (!('block' in s)) continue;
          const { keys, x } = s.block;
          for (let j = 0; j < keys.length; j++) subject.next({ key: keys[j], x: (x as Float32Array).slice(j * I, j * I + I) });
          await Promise.resolve();
        }
        subject.complete();
        out = (await done).map((o) => ({ key: o.key, y: Array.from(o.y) }));
      }
      expect(evicted.slice(0, 2)).toEqual(['a', 'b']);
      return out;
    };
    expect(await run(true)).toEqual(await run(false));
  });
});
