import type { AnomalyDetector } from './anomalyDetector.js';

/** One live key of {@link DetectorSlots}: its detector, when it was last used, and its place in the use order. */
export interface DetectorSlot<K, D = AnomalyDetector> {
  readonly key: K;
  /** The key's detector (or, in `detectAnomaliesParallel`, where it lives). */
  detector: D;
  lastSeen: number;
  /** Neighbours in use order (least recently used first); null at the ends. */
  older: DetectorSlot<K, D> | null;
  newer: DetectorSlot<K, D> | null;
}

/**
 * The live keys of `detectAnomalies` (and `detectAnomaliesParallel`) in least-recently-used order: a map for the lookup and a
 * doubly linked list for the order, so using a key is a few pointer moves. (A `Map` kept in use
 * order by delete and re-insert costs a hash-table delete and insert per reading, and its deleted
 * entries pile up until it rehashes: with 10,000 live keys that was ~15% of the operator's time.)
 *
 * @example
 * ```ts
 * const slots = new DetectorSlots<string>();
 * const pump = slots.add('pump', new AnomalyDetector(), Date.now());
 * slots.touch(pump, Date.now()); // now the most recently used
 * slots.oldest()?.key;           // 'pump'
 * ```
 */
export class DetectorSlots<K, D = AnomalyDetector> {
  private readonly byKey = new Map<K, DetectorSlot<K, D>>();
  private head: DetectorSlot<K, D> | null = null;
  private tail: DetectorSlot<K, D> | null = null;

  /** Live keys. */
  get size(): number {
    return this.byKey.size;
  }

  /** The key's slot, or undefined; does not change the order. */
  get(key: K): DetectorSlot<K, D> | undefined {
    return this.byKey.get(key);
  }

  /** Adds a key as the most recently used (replacing its slot if it had one); returns its slot. */
  add(key: K, detector: D, now: number): DetectorSlot<K, D> {
    this.remove(key);
    const slot: DetectorSlot<K, D> = { key, detector, lastSeen: now, older: this.tail, newer: null };
    if (this.tail) this.tail.newer = slot;
    else this.head = slot;
    this.tail = slot;
    this.byKey.set(key, slot);
    return slot;
  }

  /** Marks a slot as the most recently used, at `now`. */
  touch(slot: DetectorSlot<K, D>, now: number): void {
    slot.lastSeen = now;
    if (slot === this.tail) return;
    this.unlink(slot);
    slot.older = this.tail;
    slot.newer = null;
    (this.tail as DetectorSlot<K, D>).newer = slot;
    this.tail = slot;
  }

  /** Removes a key; returns its slot, or undefined when it was not live. */
  remove(key: K): DetectorSlot<K, D> | undefined {
    const slot = this.byKey.get(key);
    if (!slot) return undefined;
    this.byKey.delete(key);
    this.unlink(slot);
    return slot;
  }

  /** The least recently used slot, or null when empty. */
  oldest(): DetectorSlot<K, D> | null {
    return this.head;
  }

  /** Every slot, least recently used first. */
  *[Symbol.iterator](): IterableIterator<DetectorSlot<K, D>> {
    for (let s = this.head; s; s = s.newer) yield s;
  }

  clear(): void {
    this.byKey.clear();
    this.head = this.tail = null;
  }

  private unlink(slot: DetectorSlot<K, D>): void {
    if (slot.older) slot.older.newer = slot.newer;
    else if (this.head === slot) this.head = slot.newer;
    if (slot.newer) slot.newer.older = slot.older;
    else if (this.tail === slot) this.tail = slot.older;
    slot.older = slot.newer = null;
  }
}
