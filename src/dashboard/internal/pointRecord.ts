/**
 * The layout of one dashboard point in a buffer, shared by the rings ({@link StreamHistory}) and the
 * pending batch ({@link PendingPoints}): `stride` float32 words per point,
 * `[t: float64 (2 words)][score][alert 0|1][x0 .. x(c-1)][y0 .. y(c-1)]`, so a point's time is
 * `f64[base / 2]` and its values `f32[base + 2 ..]`. Two views share one `ArrayBuffer`.
 *
 * @example
 * ```ts
 * const stride = pointStride(4); // 12 words, 48 bytes
 * const buffer = new ArrayBuffer(16 * stride * 4);
 * const f64 = new Float64Array(buffer);
 * const f32 = new Float32Array(buffer);
 * writePoint(f64, f32, 0, 4, Date.now(), [21.5], null, 0.1, false); // 1: one input, no output
 * ```
 */
export function pointStride(channels: number): number {
  return 4 + 2 * channels;
}

/**
 * Writes one point at word `base` (`x`/`y` cut to `channels`, the rest NaN) and returns how many
 * input and output values it had, packed as `nx | (ny << 8)`.
 *
 * @example
 * ```ts
 * const widths = writePoint(f64, f32, 12, 4, 1000, [1, 2], Float32Array.of(3), NaN, false);
 * widths & 0xff; // 2
 * widths >> 8; // 1
 * ```
 */
export function writePoint(f64: Float64Array, f32: Float32Array, base: number, channels: number, timestamp: number, x: ArrayLike<number> | null, y: ArrayLike<number> | null, score: number, alert: boolean): number {
  const w = channels;
  f64[base >> 1] = timestamp;
  f32[base + 2] = score;
  f32[base + 3] = alert ? 1 : 0;
  const nx = x === null ? 0 : x.length < w ? x.length : w;
  const ny = y === null ? 0 : y.length < w ? y.length : w;
  const xb = base + 4;
  const yb = xb + w;
  let i = 0;
  for (; i < nx; i++) f32[xb + i] = (x as ArrayLike<number>)[i];
  for (; i < w; i++) f32[xb + i] = NaN;
  for (i = 0; i < ny; i++) f32[yb + i] = (y as ArrayLike<number>)[i];
  for (; i < w; i++) f32[yb + i] = NaN;
  return nx | (ny << 8);
}

/**
 * Copies one point between buffers of the same `stride`. The time goes through the float64 view:
 * copying its two halves as float32 values could rewrite a half that looks like a NaN.
 *
 * @example
 * ```ts
 * copyPoint(pending64, pending32, 0, ring64, ring32, 5 * 12, 12);
 * ```
 */
export function copyPoint(from64: Float64Array, from32: Float32Array, fromBase: number, to64: Float64Array, to32: Float32Array, toBase: number, stride: number): void {
  to64[toBase >> 1] = from64[fromBase >> 1];
  for (let i = 2; i < stride; i++) to32[toBase + i] = from32[fromBase + i];
}
