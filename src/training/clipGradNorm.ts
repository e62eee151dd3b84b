/** What {@link clipGradNorm} did. */
export interface ClipResult {
  /** Global L2 norm of all gradients before clipping (may be NaN or Infinity). */
  norm: number;
  /** Factor the gradients were multiplied by (1 when not clipped). */
  scale: number;
  /** Whether the gradients were scaled down. */
  clipped: boolean;
}

/**
 * Clips gradients by their global L2 norm in place, exactly like PyTorch's
 * `torch.nn.utils.clip_grad_norm_(params, maxNorm)`: `norm = sqrt(sum of all squares)`, and
 * every gradient is multiplied by `min(1, maxNorm / (norm + 1e-6))`. With `maxNorm` `null` or
 * `Infinity` it only measures the norm. A non-finite norm leaves the gradients untouched (the
 * caller should skip the update).
 *
 * @example
 * ```ts
 * const g = [Float64Array.of(3, 4)];
 * clipGradNorm(g, 1); // { norm: 5, scale: 0.19999996, clipped: true }, g ~ [0.6, 0.8]
 * ```
 */
export function clipGradNorm(grads: readonly Float64Array[], maxNorm: number | null): ClipResult {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  const norm = Math.sqrt(sq);
  if (maxNorm === null || !Number.isFinite(norm) || maxNorm === Infinity) return { norm, scale: 1, clipped: false };
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return { norm, scale: 1, clipped: false };
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return { norm, scale: coef, clipped: true };
}
