import type { OperatorFunction } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import type { KeyedOutput } from './internal/keyedSlab.js';
import { resolveKeyedOptions, type RecurrentByKeyOptions } from './internal/keyedOptions.js';
import { keyedOperator } from './internal/keyedOperator.js';

export type { Eviction, EvictionReason, KeyedOutput, KeyedStats } from './internal/keyedSlab.js';
export type { RecurrentByKeyOptions, KeyedCheckpointOptions } from './internal/keyedOptions.js';

/** One input of {@link recurrentByKey}: a vector for one key. */
export interface KeyedEvent<K = string | number> {
  /** Whose state this event advances (any Map key except `null`/`undefined`). */
  key: K;
  /** Input vector of `model.config.inputSize` finite numbers (copied on arrival). */
  x: ArrayLike<number>;
  /** Zero this key's state before stepping this event. */
  reset?: boolean;
  /** Source position (e.g. log offset); passed through to the output and recorded in checkpoints. */
  offset?: number;
}

/**
 * Runs one recurrent model over many keyed streams at once: one hidden state per key, events of
 * different keys that arrive together stepped in one batched call of the fused stepper.
 * Outputs equal stepping each key alone (`model.step` per key), whatever the batching.
 *
 * Algorithm, per subscription:
 * 1. On subscribe, allocate the state slab (one row per key for `h`, and `c` for LSTM, per layer,
 *    in the WebAssembly kernel's own memory; plain Float32Arrays with `engine: 'js'`; rows reused
 *    through a free list) and load `resumeFrom` if given.
 * 2. On each event, check key and vector (bad ones go to `onError` and nothing else
 *    changes), find or create the key's row (a new key beyond `maxKeys` evicts the least recently
 *    used one, reported to `onEvict`), mark it most recently used and copy `x` into the queue.
 * 3. Flush the queue when it holds `maxBatch` events, else after `maxWaitMs` (0: in a microtask,
 *    i.e. once the current synchronous run of events is over), and when the source completes.
 * 4. A flush takes up to `maxBatch` queued events. Each key's k-th event in the flush goes to
 *    sub-batch k, so a key is in a sub-batch at most once and its events step in order. For each
 *    sub-batch: zero the rows whose event has `reset`, then one fused step of the keys' rows by
 *    index, where they are (batches for onnxruntime-node are gathered into its input tensors and
 *    scattered back from its preallocated outputs; with `engine: 'js'` rows are gathered into a
 *    batch area and back), then the head on the new top rows.
 * 5. Emit `{ key, y, h?, offset?, modelVersion }` for the flushed events in arrival order.
 * 6. Every `checkpoint.everyEvents` events / `everyMs` ms / on `control.checkpoint()`, copy all
 *    rows plus the offset of the last stepped event and save them to the store; one save at a time.
 * 7. On complete: flush, save a last checkpoint (if configured), then complete. On source error:
 *    drop the queue and forward the error. On teardown: free the slab and timers.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { RecurrentModel } from 'seqstream/cells';
 * import { recurrentByKey } from 'seqstream/streams';
 * const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 8, head: { outputSize: 1 }, seed: 1 });
 * from([{ key: 'a', x: [0, 1] }, { key: 'b', x: [1, 0] }, { key: 'a', x: [1, 1] }])
 *   .pipe(recurrentByKey(model, { maxBatch: 256, onError: (e) => console.warn(e.code) }))
 *   .subscribe(({ key, y }) => console.log(key, y[0]));
 * ```
 */
export function recurrentByKey<K = string | number>(
  model: RecurrentModel,
  options: RecurrentByKeyOptions<K> = {},
): OperatorFunction<KeyedEvent<K>, KeyedOutput<K>> {
  return keyedOperator<K, KeyedEvent<K>, KeyedOutput<K>>(model, options, resolveKeyedOptions(model, options), (slab, _emit, s) => ({
    next: (event) => {
      if (slab.add(event)) s.flushNow();
      else if (slab.pending > 0) s.schedule();
    },
    flush: () => slab.flush(),
  }));
}
