import type { ModelJSON } from '../cells/model.js';

/**
 * Every key's hidden state at one moment, plus what is needed to resume exactly there: the
 * source offset of the last event included and (optionally) the model's weights.
 * Made by `recurrentByKey` (see its `checkpoint` option and `KeyedRecurrentControl.capture`).
 */
export interface KeyedCheckpoint<K = string | number> {
  format: 'seqstream-keyed-checkpoint';
  version: 1;
  /** Source offset of the last event whose step is included; `null` if events carry no offsets. Replay from the next one. */
  offset: number | null;
  /** Events stepped since the very first run (carried across restarts). */
  events: number;
  cell: string;
  hiddenSize: number;
  numLayers: number;
  /** Keys, least recently used first (restoring in this order keeps the LRU order). */
  keys: K[];
  /**
   * States, one row of `(c ? 2 : 1) * numLayers * hiddenSize` floats per key in `keys` order:
   * `h` of layers 0..L-1, then `c` of layers 0..L-1 (LSTM).
   */
  state: Float32Array;
  /** `model.version` when captured. */
  modelVersion: number;
  /** `model.toJSON()` when captured, or null if the checkpoint was taken without the model. */
  model: ModelJSON | null;
  /** JSON-safe value from `checkpoint.extra()` (e.g. a trainer's optimizer state), saved in the same atomic write; null without. */
  extra?: unknown;
}

/**
 * Where `recurrentByKey` puts its checkpoints. `save` must be atomic: after a crash, `load`
 * returns a complete checkpoint (the newest that was fully written) or `undefined`, never a
 * half-written one. Implementations: {@link MemoryStateStore} (default, for tests and hand-over
 * inside one process) and `FileStateStore` (`seqstream/adapters/fileStateStore`).
 *
 * @example
 * ```ts
 * const store: StateStore = new MemoryStateStore();
 * await store.save(control.capture());
 * const last = await store.load(); // KeyedCheckpoint | undefined
 * ```
 */
export interface StateStore<K = string | number> {
  /** Persists a checkpoint; resolves once it is durable. The store may keep the object. */
  save(checkpoint: KeyedCheckpoint<K>): Promise<void>;
  /** The newest intact checkpoint, or `undefined` when there is none. */
  load(): Promise<KeyedCheckpoint<K> | undefined>;
}
