import { SeqstreamError } from '../../errors.js';
import type { DetectorCheckpoint, DetectorStateStore } from '../detectorCheckpoint.js';

/**
 * The `save` of a keyed detector operator: each call captures every key now and saves it to
 * `store` after the saves before it (one at a time, in order), resolving with the checkpoint once
 * durable. Without a store it rejects with `SEQ_DETECT_NO_STORE`; a capture that throws rejects too.
 *
 * @example
 * ```ts
 * const save = checkpointSaves(options.checkpoint?.store, capture, 'detectAnomalies');
 * if (events % everyEvents === 0) save().catch(fail);
 * ```
 */
export function checkpointSaves<K>(store: DetectorStateStore<K> | undefined, capture: () => DetectorCheckpoint<K>, operator: string): () => Promise<DetectorCheckpoint<K>> {
  let saving: Promise<unknown> = Promise.resolve();
  return () => {
    if (!store) return Promise.reject(new SeqstreamError('SEQ_DETECT_NO_STORE', `No checkpoint.store was configured for ${operator}`, {}));
    let cp: DetectorCheckpoint<K>;
    try {
      cp = capture();
    } catch (err) {
      return Promise.reject(err);
    }
    const p = saving.then(() => store.save(cp)).then(() => cp);
    saving = p.catch(() => undefined);
    return p;
  };
}
