import type { DetectorBinding, DetectorStats } from '../detectorControl.js';
import type { DetectorSlot, DetectorSlots } from '../detectorSlots.js';
import type { DetectorEvictionReason } from '../keyedDetectorTypes.js';

/**
 * The `DetectorControl` binding of a keyed detector operator: `delete`, `keys` and `stats` from its
 * live slots, its evict and its counters; the state-handling calls are the operator's own.
 *
 * @example
 * ```ts
 * options.control?.bind(detectorBindingOf(slots, evict, () => ({ events, rejected, evicted }), { snapshot, restore, capture, checkpoint: save }));
 * ```
 */
export function detectorBindingOf<K, D>(
  slots: DetectorSlots<K, D>,
  evict: (slot: DetectorSlot<K, D>, reason: DetectorEvictionReason) => void,
  counters: () => Omit<DetectorStats, 'keys'>,
  own: Pick<DetectorBinding<K>, 'snapshot' | 'restore' | 'capture' | 'checkpoint'>,
): DetectorBinding<K> {
  return {
    ...own,
    delete: (key) => {
      const slot = slots.get(key);
      if (!slot) return false;
      evict(slot, 'deleted');
      return true;
    },
    keys: () => Array.from(slots, (s) => s.key),
    stats: () => ({ keys: slots.size, ...counters() }),
  };
}
