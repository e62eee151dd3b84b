/** Typed-array helpers of `ContextMemory`: its bucket count, the hash of a run of facts, growth. */

/**
 * Last-fact buckets of a memory of at most n contexts (a power of two, about 4 halves each when full).
 *
 * @example
 * ```ts
 * bucketsFor(1024); // 256
 * ```
 */
export function bucketsFor(n: number): number {
  let b = 16;
  while (b < Math.min(n / 4, 16_384)) b *= 2;
  return b;
}

/**
 * FNV-1a of `facts[from..to)`, unsigned 32 bits.
 *
 * @example
 * ```ts
 * const slot = hashFacts(facts, o, o + len) & (table.length - 1);
 * ```
 */
export function hashFacts(facts: Uint16Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ facts[i], 0x01000193);
  return h >>> 0;
}

/**
 * A copy of `a` in a new array of the same type and length `n` (>= a.length), the rest zero.
 *
 * @example
 * ```ts
 * this.ctx = grown(this.ctx, Math.ceil(this.ctx.length * 1.5));
 * ```
 */
export function grown<T extends Int32Array | Uint16Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
