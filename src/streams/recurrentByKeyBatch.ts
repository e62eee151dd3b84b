import type { OperatorFunction } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import { KeyedBlockRunner, type KeyedBlock, type KeyedOutputBlock } from './internal/keyedBlocks.js';
import { resolveKeyedOptions, type RecurrentByKeyOptions } from './internal/keyedOptions.js';
import { keyedOperator } from './internal/keyedOperator.js';

export type { KeyedBlock, KeyedOutputBlock, KeyedBlockRow } from './internal/keyedBlocks.js';

/**
 * Options of {@link recurrentByKeyBatch}: those of `recurrentByKey` (same meanings and defaults)
 * but `maxWaitMs`, since a block steps when it arrives. `maxBatch` (default 1024) is the most rows
 * per stepper call: a longer block is stepped in chunks of `maxBatch` rows.
 *
 * @example
 * ```ts
 * const options: RecurrentByKeyBatchOptions<string> = { maxBatch: 512, maxKeys: 10_000, knownKeys: new Set(['a', 'b']) };
 * ```
 */
export type RecurrentByKeyBatchOptions<K> = Omit<RecurrentByKeyOptions<K>, 'maxWaitMs'>;

/**
 * `recurrentByKey` for blocks of events: each input is a block `{ keys, x, reset?, offsets? }` of
 * rows (row `j` is one event for `keys[j]`, its vector at `x[j * inputSize]`), each output one
 * block `{ rows, keys, y, yLen, h, inputRows, offsets, modelVersion }` of the rows that stepped, in
 * block order. Same state table as `recurrentByKey` — resident rows, key table, LRU and idle
 * eviction, `onEvict`/`initialState`, `knownKeys`, `reset` stream, `control`, `resumeFrom` and
 * checkpoints — and the same results, bit for bit, as sending the block's rows one by one to
 * `recurrentByKey` in one synchronous run (on one pinned engine). What it saves is the work per
 * event around the step: one object in and one out per block instead of per event.
 *
 * Algorithm, per subscription (the slab, timers, checkpoints and control as in `recurrentByKey`):
 * 1. On each block, check its shape: `keys` an array, `x` exactly `keys.length * inputSize`
 *    numbers, `reset`/`offsets` one per row when given. A malformed block is reported once to
 *    `onError(error, block)` (`SEQ_INPUT_TYPE`, `SEQ_INPUT_SHAPE`, `SEQ_KEYED_OFFSET`) and nothing
 *    steps or is emitted for it.
 * 2. Fast path: when every key is held and distinct and `x` is a `Float32Array` (offsets
 *    finite), resolve the keys to rows (remembered from the previous block while its keys are
 *    equal element by element and no key gained or lost a row), copy each `maxBatch` chunk of `x`
 *    once to where the step reads it (kernel memory) and check it there in SIMD, then step.
 *    A failed condition sends the block, from that chunk on, to step 3.
 * 3. Checked way, for each row: check its key, offset and values (NaN, ±Infinity, a non-number),
 *    and find or create the key's row, exactly as `recurrentByKey` checks an event. A bad row goes
 *    to `onError(error, { block, row, key })` with its code and `details.row`; the others go on.
 *    Good rows are copied into the queue; each time it holds `maxBatch` rows they step: a key
 *    that appears twice steps its first row, then its second (sub-batch k holds each key's k-th
 *    row), so a repeated key is the same stream twice, in block order.
 * 4. Outputs go straight into one fresh buffer per block, in block order: `y` (and `h` with
 *    `emit: 'all'`) are yours to keep — nothing writes them again.
 * 5. Emit the block's output (also when every row was rejected: `rows: 0`). A block sent from
 *    inside a callback or an emission waits for the current one, so outputs keep input order.
 *
 * @example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { RecurrentModel } from 'seqstream/cells';
 * import { recurrentByKeyBatch, type KeyedBlock } from 'seqstream/streams';
 * const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 8, head: { outputSize: 1 }, seed: 1 });
 * const blocks = new Subject<KeyedBlock<string>>();
 * blocks.pipe(recurrentByKeyBatch(model, { onError: (e) => console.warn(e.code, e.details) }))
 *   .subscribe(({ keys, y, yLen }) => console.log(keys[0], y[0 * yLen]));
 * blocks.next({ keys: ['a', 'b', 'a'], x: new Float32Array([0, 1, 1, 0, 1, 1]) }); // 'a' steps twice, in order
 * ```
 */
export function recurrentByKeyBatch<K = string | number>(
  model: RecurrentModel,
  options: RecurrentByKeyBatchOptions<K> = {},
): OperatorFunction<KeyedBlock<K>, KeyedOutputBlock<K>> {
  const o = resolveKeyedOptions(model, options);
  return keyedOperator<K, KeyedBlock<K>, KeyedOutputBlock<K>>(model, options, o, (slab, emit, s) => {
    const runner = new KeyedBlockRunner<K>(slab, o.maxBatch, o.emit === 'all', emit);
    return {
      next: (block) => {
        runner.push(block);
        s.stepped();
      },
      // Nothing waits between blocks; a block being stepped finishes on its own (control calls
      // from its callbacks see the rows stepped so far).
      flush: () => undefined,
    };
  });
}
