/**
 * The potential new contexts of one {@link ContextMemory} step: (left facts, right mask) pairs,
 * kept once each in first-insertion order (that order decides the ids they get when stored),
 * in typed arrays reused from step to step, so a step allocates nothing once they are large enough.
 * Facts are written at the tail with {@link reserve} and {@link commit}; several pairs may share
 * one run of facts.
 *
 * @example
 * ```ts
 * const set = new ContextPotentials();
 * const at = set.reserve(2);
 * set.facts[at] = 1;
 * set.facts[at + 1] = 64;
 * set.commit(2);
 * set.add(at, 2, 0b101); // true: new
 * set.add(at, 2, 0b101); // false: already there
 * set.count; // 1
 * ```
 */
export class ContextPotentials {
  /** Facts of the pairs (and of runs reserved for them). */
  facts = new Uint16Array(1024);
  /** Per pair: offset and length into `facts`, right mask. */
  off = new Int32Array(64);
  len = new Int32Array(64);
  right = new Int32Array(64);
  /** Pairs held. */
  count = 0;
  private tail = 0;
  /** Open addressing over the pairs: slot -> pair + 1, valid where `stamps` equals `gen`. */
  private slots = new Int32Array(128);
  private stamps = new Int32Array(128);
  private gen = 1;

  /** Forgets every pair (no clearing pass: the slots of older steps go stale). */
  clear(): void {
    this.count = 0;
    this.tail = 0;
    if (++this.gen === 2 ** 30) {
      this.stamps.fill(0);
      this.gen = 1;
    }
  }

  /** Room for n facts at the tail; returns their offset (`facts` may be replaced: read it after this). */
  reserve(n: number): number {
    if (this.tail + n > this.facts.length) {
      const bigger = new Uint16Array(Math.max(2 * this.facts.length, this.tail + n));
      bigger.set(this.facts.subarray(0, this.tail));
      this.facts = bigger;
    }
    return this.tail;
  }

  /** Keeps the n facts written after {@link reserve}. */
  commit(n: number): void {
    this.tail += n;
  }

  /** Adds the pair (facts[off .. off+len), right) unless held; returns whether it was new. */
  add(off: number, len: number, right: number): boolean {
    const mask = this.slots.length - 1;
    const facts = this.facts;
    for (let slot = pairHash(facts, off, len, right) & mask; ; slot = (slot + 1) & mask) {
      if (this.stamps[slot] !== this.gen) {
        const p = this.count++;
        if (p === this.off.length) this.growPairs();
        this.off[p] = off;
        this.len[p] = len;
        this.right[p] = right;
        this.stamps[slot] = this.gen;
        this.slots[slot] = p + 1;
        if (2 * this.count > this.slots.length) this.rehash(2 * this.slots.length);
        return true;
      }
      const q = this.slots[slot] - 1;
      if (this.right[q] !== right || this.len[q] !== len) continue;
      const o = this.off[q];
      let same = true;
      for (let i = 0; i < len && same; i++) same = facts[o + i] === facts[off + i];
      if (same) return false;
    }
  }

  private growPairs(): void {
    const n = 2 * this.off.length;
    for (const key of ['off', 'len', 'right'] as const) {
      const bigger = new Int32Array(n);
      bigger.set(this[key]);
      this[key] = bigger;
    }
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    this.stamps = new Int32Array(size);
    const mask = size - 1;
    for (let p = 0; p < this.count; p++) {
      let slot = pairHash(this.facts, this.off[p], this.len[p], this.right[p]) & mask;
      while (this.stamps[slot] === this.gen) slot = (slot + 1) & mask;
      this.stamps[slot] = this.gen;
      this.slots[slot] = p + 1;
    }
  }
}

function pairHash(facts: Uint16Array, off: number, len: number, right: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ facts[i], 0x01000193);
  return Math.imul(h ^ (right + 0x10000), 0x01000193) >>> 0;
}
