import type { KeyedSlab } from './keyedSlab.js';

/**
 * Resolves a block's keys to the rows they hold, for `recurrentByKeyBatch`'s fast path, and
 * remembers the last answer: a block whose keys equal the previous block's, element by element
 * (`===`; the keys are copied, so mutating the array in between is seen), while the key table's
 * {@link KeyedSlab.rowGeneration} is unchanged (no key gained or lost a row: no insert, eviction
 * or delete), gets the same rows without a `Map` lookup. A row of an evicted key can never be
 * reused: any eviction changes the generation and the keys are looked up again.
 *
 * `resolve` answers null — take the checked per-row way — when a key is not held (new, evicted,
 * `null`/`undefined`) or appears twice in the block (its rows step in order, one sub-batch each).
 *
 * @example
 * ```ts
 * const held = new HeldRows<string>();
 * const rows = held.resolve(slab, block.keys); // Int32Array of distinct rows, or null
 * ```
 */
export class HeldRows<K> {
  private keys: K[] = [];
  private rows = new Int32Array(0);
  private generation = -1;
  private mark = new Int32Array(0);
  private seq = 0;
  /** Changes with every fresh resolution: equal tokens mean the same rows for the same keys. */
  token = 0;

  /** The rows of `keys` (distinct, all held), or null (see the class). The array is reused: use it before the next call. */
  resolve(slab: KeyedSlab<K>, keys: ArrayLike<K>): Int32Array | null {
    const n = keys.length;
    const generation = slab.rowGeneration;
    if (generation === this.generation && n === this.keys.length && sameKeys(keys, this.keys, n)) return this.rows;
    this.generation = -1;
    this.token++;
    if (this.rows.length !== n) this.rows = new Int32Array(n);
    const rows = this.rows;
    const seq = ++this.seq;
    let mark = this.mark;
    for (let j = 0; j < n; j++) {
      const r = slab.rowOf(keys[j]);
      if (r === undefined) return null;
      if (r >= mark.length) {
        const grown = new Int32Array(Math.max(r + 1, mark.length * 2, 1024));
        grown.set(mark);
        this.mark = mark = grown;
      }
      if (mark[r] === seq) return null;
      mark[r] = seq;
      rows[j] = r;
    }
    this.keys = Array.prototype.slice.call(keys) as K[];
    this.generation = generation;
    return rows;
  }

  /** Forgets the remembered block (teardown). */
  clear(): void {
    this.keys = [];
    this.generation = -1;
  }
}

function sameKeys<K>(a: ArrayLike<K>, b: K[], n: number): boolean {
  for (let j = 0; j < n; j++) if (a[j] !== b[j]) return false;
  return true;
}

/** Whether every offset is a finite number. */
export function allFiniteNumbers(v: ArrayLike<unknown>): boolean {
  for (let j = 0; j < v.length; j++) {
    const o = v[j];
    if (typeof o !== 'number' || o - o !== 0) return false;
  }
  return true;
}
