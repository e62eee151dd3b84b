import type { KeyedCheckpoint } from './internal/keyedCheckpoint.js';
import type { StateStore } from './stateStore.js';

/**
 * A {@link StateStore} in memory: keeps the last checkpoint (by reference; checkpoints from
 * `recurrentByKey` own their arrays). Survives an unsubscribe/resubscribe, not a process exit.
 *
 * @example
 * ```ts
 * const store = new MemoryStateStore();
 * source.pipe(recurrentByKey(model, { checkpoint: { store, everyEvents: 1000 } })).subscribe();
 * const cp = await store.load();
 * ```
 */
export class MemoryStateStore<K = string | number> implements StateStore<K> {
  private last: KeyedCheckpoint<K> | undefined;
  /** Number of checkpoints saved. */
  saves = 0;

  async save(checkpoint: KeyedCheckpoint<K>): Promise<void> {
    this.last = checkpoint;
    this.saves++;
  }

  async load(): Promise<KeyedCheckpoint<K> | undefined> {
    return this.last;
  }
}
