import { Observable } from 'rxjs';
import { resolveEngine, type StepEngine } from '../../kernels/autoStepper.js';
import { nativeGraphOf, requireOnnxStepper } from '../../kernels/onnxEngine.js';
import type { RecurrentModel } from '../../cells/model.js';
import type { StateSnapshot } from '../../cells/stateSnapshot.js';
import { InvalidOptionError, type InvalidInputError, type ErrorCallback } from '../../errors.js';
import { functionOption, integerOption, numberOption } from '../../options.js';
import { checkCheckpointFits, type KeyedCheckpoint } from './keyedCheckpoint.js';
import type { Eviction } from './keyTable.js';
import type { KeyedRecurrentControl } from '../keyedRecurrentControl.js';
import type { StateStore } from '../stateStore.js';

/** Checkpoint policy of `recurrentByKey` and `recurrentByKeyBatch`. */
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

/** Options of `recurrentByKey` (and, but `maxWaitMs`, of `recurrentByKeyBatch`). */
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
  /**
   * Closed key set: an event (or block row) whose key is not held and not in this set is rejected
   * with `SEQ_KEYED_UNKNOWN_KEY` on the side channel and creates no state; other keys go on. Keys
   * put in by `resumeFrom` or `control.restore` are held, so they step. Read at each new key (a
   * `Set` you change while running is honoured). Default: none (any key starts a state).
   */
  knownKeys?: ReadonlySet<K>;
  /** Start from this checkpoint's states (and offset/event count); replay your source after `checkpoint.offset`. Default none. */
  resumeFrom?: KeyedCheckpoint<K>;
  /** Called for every key that leaves (LRU, idle, deleted) with its last state. A throw errors the stream. Default none. */
  onEvict?: (eviction: Eviction<K>) => void;
  /** Side channel for rejected events (codes `SEQ_INPUT_TYPE`, `SEQ_INPUT_SHAPE`, `SEQ_INPUT_NON_FINITE`, `SEQ_KEYED_MISSING_KEY`, `SEQ_KEYED_OFFSET`, `SEQ_KEYED_INITIAL_STATE`, `SEQ_KEYED_UNKNOWN_KEY`). Default none. */
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
 * The validated options of a keyed operator (see {@link resolveKeyedOptions}).
 *
 * @example
 * ```ts
 * const o: ResolvedKeyedOptions = resolveKeyedOptions(model, {});
 * ```
 */
export type ResolvedKeyedOptions = ReturnType<typeof resolveKeyedOptions>;

/**
 * Checks the options of `recurrentByKey` / `recurrentByKeyBatch` (synchronously, at creation:
 * `SEQ_INVALID_OPTION` naming the option) and fills in the defaults.
 *
 * @example
 * ```ts
 * const o = resolveKeyedOptions(model, { maxBatch: 256 }); // o.maxKeys === 100000
 * ```
 */
export function resolveKeyedOptions<K>(model: RecurrentModel, options: RecurrentByKeyOptions<K>) {
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
  if (options.knownKeys !== undefined && (options.knownKeys === null || typeof (options.knownKeys as { has?: unknown }).has !== 'function')) {
    throw new InvalidOptionError('knownKeys', 'a Set of keys', options.knownKeys);
  }
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
  // SEQSTREAM_NATIVE_GRAPH is read again at subscribe; a bad value should fail here, when the operator is made.
  nativeGraphOf(model);
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
