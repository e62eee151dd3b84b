import { describe, InvalidInputError } from '../../errors.js';
import type { AnomalyDetectorJSON } from '../anomalyDetector.js';
import type { DetectorSlot, DetectorSlots } from '../detectorSlots.js';
import type { DetectorEvictionReason } from '../keyedDetectorTypes.js';

/** What {@link admitKey} needs from its operator. */
export interface Admission<K, D> {
  readonly slots: DetectorSlots<K, D>;
  readonly maxKeys: number;
  readonly idleTtlMs: number;
  initialState?: (key: K) => AnomalyDetectorJSON | undefined;
  /** A new key's detector (or its place), from its initial state; throws on a state that does not load. */
  make(key: K, state: AnomalyDetectorJSON | undefined): D;
  evict(slot: DetectorSlot<K, D>, reason: DetectorEvictionReason): void;
}

/**
 * The slot of a reading's key in a keyed detector operator, at `now`: first keys idle for
 * `idleTtlMs` are evicted, then the key's slot is made the most recently used, or, for a new key,
 * its detector is made from `initialState` and, with `maxKeys` live, the least recently used key
 * evicted. Returns `SEQ_DETECT_INITIAL_STATE` (not thrown) when the initial state fails; then
 * nothing else changed but the idle evictions.
 *
 * @example
 * ```ts
 * const slot = admitKey(admission, key, now);
 * if (!(slot instanceof InvalidInputError)) slot.detector.update(x, t);
 * ```
 */
export function admitKey<K, D>(a: Admission<K, D>, key: K, now: number): DetectorSlot<K, D> | InvalidInputError {
  const { slots } = a;
  if (a.idleTtlMs !== Infinity) {
    for (let s = slots.oldest(); s && now - s.lastSeen >= a.idleTtlMs; s = slots.oldest()) a.evict(s, 'idle');
  }
  const slot = slots.get(key);
  if (slot) {
    slots.touch(slot, now);
    return slot;
  }
  let detector: D;
  try {
    detector = a.make(key, a.initialState?.(key));
  } catch (thrown) {
    return new InvalidInputError('SEQ_DETECT_INITIAL_STATE', `initialState for key ${describe(key)} failed: ${(thrown as Error).message}`, { key });
  }
  while (slots.size >= a.maxKeys) a.evict(slots.oldest() as DetectorSlot<K, D>, 'lru');
  return slots.add(key, detector, now);
}
