import { resolveEngine, type StepEngine } from '../kernels/autoStepper.js';
import { requireOnnxStepper } from '../kernels/onnxEngine.js';
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import type { StateSnapshot } from '../cells/stateSnapshot.js';
import { InvalidOptionError, SeqstreamError, type InvalidInputError, type ErrorCallback } from '../errors.js';
import { checkCheckpointFits, type KeyedCheckpoint } from './internal/keyedCheckpoint.js';
import { KeyedSlab, type Eviction, type KeyedOutput } from './internal/keyedSlab.js';
import type { KeyedRecurrentControl } from './keyedRecurrentControl.js';
import type { StateStore } from './stateStore.js';
import { subscribeLinked } from './internal/subscribeLinked.js';
import { functionOption, integerOption, numberOption } from '../options.js';
import { handleInvalidInput } from './internal/handleInvalidInput.js';

export type { Eviction, EvictionReason, KeyedOutput, KeyedStats } from './internal/keyedSlab.js';

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

/** Checkpoint policy of {@link recurrentByKey}. */
export interface KeyedCheckpointOptions<K> {
  /** Where checkpoints go (`MemoryStateStore`, `FileStateStore`, or your own). */
  store: StateStore<K>;
  /** Checkpoint after this many stepped events. Default 0 (off). */
  everyEvents?: number;
  /** Checkpoint every this many milliseconds. Default 0 (off). */
  everyMs?: number;
  /** Include `model.toJSON()` (needed when a trainer changes the weights). Default true. */
  includeModel?: boolean;
  /** Write a last checkpoint when the source completes (complete is delayed until it is durable). Default true. */
  onComplete?: boolean;
  /** Called at each capture; its JSON-safe result is stored as `checkpoint.extra` in the same atomic write (e.g. an optimizer's `toJSON()`). Default none. */
  extra?: () => unknown;
}

/** Options of {@link recurrentByKey}. */
export interface RecurrentByKeyOptions<K> {
  /** `'output'` (head output, the default when the model has a head), `'hidden'` (top layer `h`, default without head) or `'all'` (both). */
  emit?: 'output' | 'hidden' | 'all';
  /** Most rows stepped in one batched call; reaching it flushes at once. Default 1024. */
  maxBatch?: number;
  /** Longest an event waits for others to share its step, in ms. 0 = step what arrived in the same synchronous run (a microtask later). Default 0. */
  maxWaitMs?: number;
  /** Most keys held; a new key beyond it evicts the least recently used. Default 100000. */
  maxKeys?: number;
  /** Evict keys with no event for this long, in ms (checked at each flush and by a timer). Default Infinity (never). */
  idleTtlMs?: number;
  /** Keys whose state is zeroed (after their events already queued). Default none. */
  reset?: Observable<K>;
  /**
   * State for a key seen for the first time (e.g. read back from where `onEvict` put it); undefined = zeros.
   * If it throws or returns a snapshot that does not fit the model, that event is rejected with
   * `SEQ_KEYED_INITIAL_STATE` (side channel) and the key is not created; other keys go on. Default: zeros.
   */
  initialState?: (key: K) => StateSnapshot | undefined;
  /** Start from this checkpoint's states (and offset/event count); replay your source after `checkpoint.offset`. Default none. */
  resumeFrom?: KeyedCheckpoint<K>;
  /** Called for every key that leaves (LRU, idle, deleted) with its last state. A throw errors the stream. Default none. */
  onEvict?: (eviction: Eviction<K>) => void;
  /** Side channel for rejected events (codes `SEQ_INPUT_TYPE`, `SEQ_INPUT_SHAPE`, `SEQ_INPUT_NON_FINITE`, `SEQ_KEYED_MISSING_KEY`, `SEQ_KEYED_OFFSET`, `SEQ_KEYED_INITIAL_STATE`). Default none. */
  onError?: ErrorCallback<unknown, InvalidInputError>;
  /** `'skip'`: a bad event is dropped (and reported to `onError`), other keys go on; `'error'`: the stream errors. Default `'skip'`. */
  invalidInput?: 'skip' | 'error';
  /** Periodic durable checkpoints. Default none. */
  checkpoint?: KeyedCheckpointOptions<K>;
  /** Handle to inspect/snapshot/restore keys while running. Default none. */
  control?: KeyedRecurrentControl<K>;
  /** Clock for `idleTtlMs`, in ms. Default `Date.now`. */
  clock?: () => number;
  /** Time the stepper calls and flushes (see `control.stats()`). Default false. */
  profile?: boolean;
  /**
   * Step engine (see `createFusedStepper`): `'auto'` (WebAssembly, and onnxruntime-node for flushes
   * of 1M+ multiply-adds when it is installed), `'wasm'`, `'native'` (throws
   * `SEQ_ENGINE_UNAVAILABLE` here, at creation, when onnxruntime-node cannot load) or `'js'`. Pin
   * one where crash replay must be bit-exact under any batching. Default: `SEQSTREAM_ENGINE`
   * (read at subscribe), else `'auto'`.
   */
  engine?: StepEngine;
}

const DEFAULTS = { maxBatch: 1024, maxWaitMs: 0, maxKeys: 100_000, idleTtlMs: Infinity };

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
  const o = resolveOptions(model, options);
  return (source) =>
    new Observable<KeyedOutput<K>>((subscriber) => {
      let closed = false;
      let flushScheduled = false;
      let flushTimer: ReturnType<typeof setTimeout> | undefined;
      let idleTimer: ReturnType<typeof setInterval> | undefined;
      let checkpointTimer: ReturnType<typeof setInterval> | undefined;
      let resetSub: Subscription | undefined;

      const fail = (err: unknown): void => {
        if (closed) return;
        closed = true;
        subscriber.error(err);
      };

      const slab = new KeyedSlab<K>(model, {
        maxKeys: o.maxKeys,
        maxBatch: o.maxBatch,
        idleTtlMs: o.idleTtlMs,
        emit: o.emit,
        clock: o.clock,
        profile: o.profile,
        engine: options.engine,
        initialState: options.initialState,
        onEvict: options.onEvict,
        onInvalid: (error, event) => handleInvalidInput(o.invalidInput, options.onError, error, event, fail),
        output: (out) => {
          if (!closed) subscriber.next(out);
        },
      });

      // --- checkpoints: one save at a time; a request while one waits joins it ---
      const cpo = options.checkpoint;
      let saveTail: Promise<unknown> = Promise.resolve();
      let waiting: Promise<KeyedCheckpoint<K>> | null = null;
      let eventsAtRequest = 0;
      const requestCheckpoint = (): Promise<KeyedCheckpoint<K>> => {
        if (!cpo) {
          return Promise.reject(new SeqstreamError('SEQ_KEYED_NO_STORE', "recurrentByKey has no 'checkpoint.store' to save to", {}));
        }
        if (waiting) return waiting;
        eventsAtRequest = slab.stats().events;
        const p = saveTail.then(async () => {
          waiting = null;
          if (closed) throw new SeqstreamError('SEQ_KEYED_NOT_RUNNING', 'recurrentByKey stopped before the checkpoint was taken', {});
          let cp: KeyedCheckpoint<K>;
          try {
            cp = slab.capture(o.includeModel);
            if (cpo.extra) cp.extra = cpo.extra();
          } catch (e) {
            const err = new SeqstreamError('SEQ_KEYED_CHECKPOINT', `Taking a keyed checkpoint failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
            fail(err);
            throw err;
          }
          try {
            await cpo.store.save(cp);
          } catch (e) {
            const err = new SeqstreamError('SEQ_STORE_WRITE', `Saving a keyed checkpoint failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
            fail(err);
            throw err;
          }
          return cp;
        });
        waiting = p;
        saveTail = p.catch(() => undefined);
        return p;
      };
      const periodic = (): void => {
        requestCheckpoint().catch(() => undefined); // failures already went to subscriber.error
      };

      const afterFlush = (): void => {
        if (o.everyEvents > 0 && slab.stats().events - eventsAtRequest >= o.everyEvents) periodic();
      };
      const flushNow = (): void => {
        if (closed) return;
        try {
          slab.flush();
          afterFlush();
        } catch (e) {
          fail(e);
        }
      };
      const runScheduled = (): void => {
        flushScheduled = false;
        flushTimer = undefined;
        flushNow();
      };
      const schedule = (): void => {
        if (flushScheduled) return;
        flushScheduled = true;
        if (o.maxWaitMs === 0) queueMicrotask(runScheduled);
        else flushTimer = setTimeout(runScheduled, o.maxWaitMs);
      };

      const binding = {
        slab,
        flush: flushNow,
        checkpoint: () => {
          flushNow();
          return requestCheckpoint();
        },
        includeModel: o.includeModel,
      };
      // Registered first: a synchronous source may close this subscriber before subscribe returns.
      subscriber.add(() => {
        closed = true;
        resetSub?.unsubscribe();
        if (flushTimer) clearTimeout(flushTimer);
        if (idleTimer) clearInterval(idleTimer);
        if (checkpointTimer) clearInterval(checkpointTimer);
        options.control?.unbind(binding);
        slab.release();
      });

      // 1. State, control, timers.
      try {
        if (options.resumeFrom) slab.load(options.resumeFrom);
        options.control?.bind(binding);
      } catch (e) {
        fail(e);
        return;
      }
      // Periodic checkpoints count from the resumed event count, not from zero.
      eventsAtRequest = slab.stats().events;
      if (o.idleTtlMs !== Infinity) {
        idleTimer = setInterval(() => {
          try {
            slab.evictIdle();
          } catch (e) {
            fail(e);
          }
        }, Math.max(10, Math.min(o.idleTtlMs / 2, 60_000)));
        idleTimer.unref?.();
      }
      if (cpo && o.everyMs > 0) {
        checkpointTimer = setInterval(periodic, o.everyMs);
        checkpointTimer.unref?.();
      }
      if (options.reset) {
        resetSub = options.reset.subscribe({
          next: (key) => {
            try {
              slab.reset(key);
            } catch (e) {
              fail(e);
            }
          },
          error: fail,
        });
      }

      // 2.-7.
      subscribeLinked(source, subscriber, {
        next: (event) => {
          if (closed) return;
          try {
            if (slab.add(event)) flushNow();
            else if (slab.pending > 0) schedule();
          } catch (e) {
            fail(e);
          }
        },
        error: fail,
        complete: () => {
          flushNow();
          if (closed) return;
          if (cpo && o.checkpointOnComplete) {
            requestCheckpoint().then(
              () => {
                if (!closed) {
                  closed = true;
                  subscriber.complete();
                }
              },
              () => undefined,
            );
          } else {
            closed = true;
            subscriber.complete();
          }
        },
      });
    });
}

function resolveOptions<K>(model: RecurrentModel, options: RecurrentByKeyOptions<K>) {
  if (!options || typeof options !== 'object') throw new InvalidOptionError('options', 'an object', options);
  const hasHead = model.head !== null;
  const emit = options.emit ?? (hasHead ? 'output' : 'hidden');
  if (emit !== 'output' && emit !== 'hidden' && emit !== 'all') throw new InvalidOptionError('emit', "'output', 'hidden' or 'all'", emit);
  if (emit !== 'hidden' && !hasHead) throw new InvalidOptionError('emit', "'hidden' for a model without a head", emit);
  const maxKeys = integerOption('maxKeys', options.maxKeys, DEFAULTS.maxKeys, 1);
  const maxBatch = integerOption('maxBatch', options.maxBatch, Math.min(DEFAULTS.maxBatch, maxKeys), 1);
  if (maxBatch > maxKeys) throw new InvalidOptionError('maxBatch', `at most maxKeys (${maxKeys})`, maxBatch);
  const maxWaitMs = numberOption('maxWaitMs', options.maxWaitMs, DEFAULTS.maxWaitMs, { min: 0, allowInfinity: false });
  const idleTtlMs = numberOption('idleTtlMs', options.idleTtlMs, DEFAULTS.idleTtlMs, { min: 0, allowInfinity: true });
  if (idleTtlMs === 0) throw new InvalidOptionError('idleTtlMs', 'a number of ms > 0 or Infinity', 0);
  const invalidInput = options.invalidInput ?? 'skip';
  if (invalidInput !== 'skip' && invalidInput !== 'error') throw new InvalidOptionError('invalidInput', "'skip' or 'error'", invalidInput);
  functionOption('initialState', options.initialState);
  functionOption('onEvict', options.onEvict);
  functionOption('onError', options.onError);
  functionOption('clock', options.clock);
  if (options.reset !== undefined && !(options.reset instanceof Observable)) throw new InvalidOptionError('reset', 'an Observable of keys', options.reset);
  if (options.control !== undefined && (typeof options.control !== 'object' || typeof options.control.bind !== 'function')) {
    throw new InvalidOptionError('control', 'a KeyedRecurrentControl', options.control);
  }
  if (options.resumeFrom !== undefined) {
    try {
      checkCheckpointFits(model, options.resumeFrom);
    } catch (e) {
      throw new InvalidOptionError('resumeFrom', `a KeyedCheckpoint of this model (${(e as Error).message})`, options.resumeFrom);
    }
  }

  const cp = options.checkpoint;
  let everyEvents = 0;
  let everyMs = 0;
  let includeModel = true;
  let checkpointOnComplete = true;
  if (cp !== undefined) {
    if (!cp || typeof cp !== 'object' || !cp.store || typeof cp.store.save !== 'function' || typeof cp.store.load !== 'function') {
      throw new InvalidOptionError('checkpoint.store', 'a StateStore with save() and load()', cp && cp.store);
    }
    everyEvents = integerOption('checkpoint.everyEvents', cp.everyEvents, 0, 0);
    everyMs = numberOption('checkpoint.everyMs', cp.everyMs, 0, { min: 0, allowInfinity: false });
    if (everyMs > 0 && everyMs < 1) throw new InvalidOptionError('checkpoint.everyMs', '0 (off) or >= 1', everyMs);
    if (cp.includeModel !== undefined && typeof cp.includeModel !== 'boolean') throw new InvalidOptionError('checkpoint.includeModel', 'a boolean', cp.includeModel);
    if (cp.onComplete !== undefined && typeof cp.onComplete !== 'boolean') throw new InvalidOptionError('checkpoint.onComplete', 'a boolean', cp.onComplete);
    if (cp.extra !== undefined && typeof cp.extra !== 'function') throw new InvalidOptionError('checkpoint.extra', 'a function', cp.extra);
    includeModel = cp.includeModel ?? true;
    checkpointOnComplete = cp.onComplete ?? true;
  }
  if (options.profile !== undefined && typeof options.profile !== 'boolean') throw new InvalidOptionError('profile', 'a boolean', options.profile);
  if (options.engine !== undefined && resolveEngine(options.engine) === 'native') requireOnnxStepper(model);
  return {
    emit,
    maxKeys,
    maxBatch,
    maxWaitMs,
    idleTtlMs,
    invalidInput,
    everyEvents,
    everyMs,
    includeModel,
    checkpointOnComplete,
    clock: options.clock ?? Date.now,
    profile: options.profile ?? false,
  };
}
