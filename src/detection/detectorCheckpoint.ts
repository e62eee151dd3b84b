import type { AnomalyDetectorJSON } from './anomalyDetector.js';

/**
 * Every key's detector state at one moment, plus where to resume the source: made by
 * `detectAnomalies` (its `checkpoint` option, `DetectorControl.checkpoint()`), plain JSON.
 */
export interface DetectorCheckpoint<K = string | number> {
  format: 'seqstream-detector-checkpoint';
  version: 1;
  /** `offset` of the last event included (its own `offset`, else its 0-based position in the stream). Replay from the next one. */
  offset: number;
  /** Events scored since the very first run (carried across restarts). */
  events: number;
  /** Keys, least recently used first, with their detector states. */
  keys: { key: K; state: AnomalyDetectorJSON }[];
}

/**
 * Where `detectAnomalies` puts its checkpoints. `save` must be atomic (after a crash `load`
 * returns the newest complete checkpoint or `undefined`). Implementations:
 * {@link MemoryDetectorStore} and `FileDetectorStore` (`seqstream/adapters/fileDetectorStore`).
 *
 * @example
 * ```ts
 * const store: DetectorStateStore = new MemoryDetectorStore();
 * const last = await store.load(); // DetectorCheckpoint | undefined
 * ```
 */
export interface DetectorStateStore<K = string | number> {
  save(checkpoint: DetectorCheckpoint<K>): Promise<void>;
  load(): Promise<DetectorCheckpoint<K> | undefined>;
}

/**
 * A {@link DetectorStateStore} in memory (tests, hand-over inside one process). It keeps a deep
 * copy, so later changes to the detectors never reach a saved checkpoint.
 *
 * @example
 * ```ts
 * const store = new MemoryDetectorStore();
 * events$.pipe(detectAnomalies({ checkpoint: { store, everyEvents: 1000 } })).subscribe();
 * ```
 */
export class MemoryDetectorStore<K = string | number> implements DetectorStateStore<K> {
  private last: string | undefined;
  /** Number of checkpoints saved. */
  saves = 0;

  async save(checkpoint: DetectorCheckpoint<K>): Promise<void> {
    this.last = JSON.stringify(checkpoint);
    this.saves++;
  }

  async load(): Promise<DetectorCheckpoint<K> | undefined> {
    return this.last === undefined ? undefined : (JSON.parse(this.last) as DetectorCheckpoint<K>);
  }
}
