import { describe, expect, it } from 'vitest';
import { AnomalyDetector } from '../../src/detection/anomalyDetector.js';
import { DetectorSlots } from '../../src/detection/detectorSlots.js';
import { seededRandom } from '../../src/cells/random.js';

const keysOf = (s: DetectorSlots<number>) => Array.from(s, (x) => x.key);

describe('DetectorSlots', () => {
  it('keeps least-recently-used order through add, touch, remove and re-add', () => {
    const slots = new DetectorSlots<number>();
    const d = new AnomalyDetector({ maxContexts: 0 });
    for (const k of [1, 2, 3]) slots.add(k, d, k);
    slots.touch(slots.get(1)!, 10);
    expect(keysOf(slots)).toEqual([2, 3, 1]);
    expect(slots.oldest()?.key).toBe(2);
    expect(slots.remove(3)?.key).toBe(3);
    expect(slots.remove(3)).toBeUndefined();
    slots.add(2, d, 11); // replaces: moves to the newest end
    expect(keysOf(slots)).toEqual([1, 2]);
    expect(slots.get(1)?.lastSeen).toBe(10);
    slots.touch(slots.get(2)!, 12); // already newest
    expect(keysOf(slots)).toEqual([1, 2]);
    slots.clear();
    expect(slots.size).toBe(0);
    expect(slots.oldest()).toBeNull();
  });

  it('matches a Map kept in use order by delete and re-insert, over random operations', () => {
    const rnd = seededRandom(5);
    const slots = new DetectorSlots<number>();
    const reference = new Map<number, number>();
    const d = new AnomalyDetector({ maxContexts: 0 });
    for (let i = 0; i < 5000; i++) {
      const k = Math.floor(rnd() * 40);
      const op = rnd();
      if (op < 0.5) {
        const s = slots.get(k);
        if (s) slots.touch(s, i);
        else slots.add(k, d, i);
        reference.delete(k);
        reference.set(k, i);
      } else if (op < 0.7) {
        expect(slots.remove(k) !== undefined).toBe(reference.delete(k));
      } else if (op < 0.8 && reference.size > 0) {
        const [oldest] = reference.keys();
        expect(slots.oldest()?.key).toBe(oldest);
        slots.remove(oldest);
        reference.delete(oldest);
      }
      expect(slots.size).toBe(reference.size);
    }
    expect(keysOf(slots)).toEqual([...reference.keys()]);
    expect(Array.from(slots, (s) => s.lastSeen)).toEqual([...reference.values()]);
  });
});
