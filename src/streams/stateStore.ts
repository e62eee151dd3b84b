import type { KeyedCheckpoint } from './internal/keyedCheckpoint.js';

/** The checkpoint a store holds (defined with the code that captures and loads it). */
export type { KeyedCheckpoint } from './internal/keyedCheckpoint.js';

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
