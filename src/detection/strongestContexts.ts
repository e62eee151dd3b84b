/**
 * Puts the `k` contexts of `active[0 .. n)` ranked highest by (times active, id) — more often
 * active first, the newer on ties — into `best`, ascending by id, and returns how many (min(n, k)).
 * `counts` holds each context's times active (as in `ContextMemory`).
 * The ranking is a total order, so the result does not depend on the order of `active`.
 *
 * @example
 * ```ts
 * const counts = Int32Array.of(5, 9, 5); // contexts 0, 1, 2 active 5, 9, 5 times
 * const best = new Int32Array(2);
 * strongestContexts(counts, Int32Array.of(0, 1, 2), 3, 2, best); // 2; best = [1, 2]
 * ```
 */
export function strongestContexts(counts: Int32Array, active: Int32Array, n: number, k: number, best: Int32Array): number {
  let m = n;
  if (n <= k) best.set(active.subarray(0, n));
  else {
    m = k;
    // A sorted (weakest first) list of the best k so far; each candidate displaces the weakest.
    for (let i = 0; i < k; i++) {
      const c = active[i];
      let j = i;
      for (; j > 0 && above(counts, best[j - 1], c); j--) best[j] = best[j - 1];
      best[j] = c;
    }
    for (let i = k; i < n && k > 0; i++) {
      const c = active[i];
      if (!above(counts, c, best[0])) continue;
      let j = 1;
      while (j < k && above(counts, c, best[j])) {
        best[j - 1] = best[j];
        j++;
      }
      best[j - 1] = c;
    }
  }
  for (let i = 1; i < m; i++) {
    const c = best[i];
    let j = i;
    for (; j > 0 && best[j - 1] > c; j--) best[j] = best[j - 1];
    best[j] = c;
  }
  return m;
}

/** Whether context a ranks above context b: more often active, or as often and newer. */
function above(counts: Int32Array, a: number, b: number): boolean {
  const na = counts[a];
  const nb = counts[b];
  return na > nb || (na === nb && a > b);
}
