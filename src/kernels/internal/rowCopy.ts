import type { GatesKernel } from '../gatesKernel.js';

/**
 * Where a model's key rows sit in the kernel's memory: `L` layers, `H` floats of state per row
 * (row stride `Hp`, padded), `I` inputs per batch row, and whether there is a `c` per layer.
 *
 * @example
 * ```ts
 * const layout: RowLayout = { L: 2, H: 64, Hp: kernel.rowStride, I: 13, hasC: true };
 * ```
 */
export interface RowLayout {
  readonly L: number;
  readonly H: number;
  readonly Hp: number;
  readonly I: number;
  readonly hasC: boolean;
}

/**
 * Writes the step worker's block of batch rows `[r0, r0 + n)` (layout of `SplitJob`: their inputs,
 * then `h` (and `c`) of each layer) into `d`, straight from the resident rows `idx` of `kernel`.
 *
 * @example
 * ```ts
 * packRows(kernel, layout, idx, x, r0, n, shared);
 * ```
 */
export function packRows(kernel: GatesKernel, layout: RowLayout, idx: Int32Array, x: Float32Array, r0: number, n: number, d: Float32Array): void {
  const { L, H, Hp, I, hasC } = layout;
  const f32 = kernel.f32;
  d.set(x.subarray(r0 * I, (r0 + n) * I), 0);
  const rows = idx.subarray(r0, r0 + n);
  const stride = hasC ? 2 : 1;
  for (let k = 0; k < L; k++) {
    const at = n * I + k * stride * n * H;
    gatherRows(f32, kernel.hAt(k), Hp, rows, n, d.subarray(at, at + n * H), H);
    if (hasC) gatherRows(f32, kernel.cAt(k), Hp, rows, n, d.subarray(at + n * H, at + 2 * n * H), H);
  }
}

/**
 * The inverse of {@link packRows}: the worker's new state of batch rows `[r0, r0 + n)` from `d`
 * back into the resident rows `idx` of `kernel`.
 *
 * @example
 * ```ts
 * unpackRows(kernel, layout, idx, r0, n, shared);
 * ```
 */
export function unpackRows(kernel: GatesKernel, layout: RowLayout, idx: Int32Array, r0: number, n: number, d: Float32Array): void {
  const { L, H, Hp, I, hasC } = layout;
  const f32 = kernel.f32;
  const rows = idx.subarray(r0, r0 + n);
  const stride = hasC ? 2 : 1;
  for (let k = 0; k < L; k++) {
    const at = n * I + k * stride * n * H;
    scatterRows(d.subarray(at, at + n * H), H, f32, kernel.hAt(k), Hp, rows, n);
    if (hasC) scatterRows(d.subarray(at + n * H, at + 2 * n * H), H, f32, kernel.cAt(k), Hp, rows, n);
  }
}

// Short rows copy fastest element by element (a `subarray` view per row costs more than 32
// floats); longer ones by `set`, a memcpy (measured at H=128: 7x faster than the loop).
const LOOP_BELOW = 48;

/**
 * Copies rows `idx[0..n)` (stride `Hp` from `base` in `f32`, `H` floats used of each) into `dst`,
 * contiguous, in batch order.
 *
 * @example
 * ```ts
 * gatherRows(kernel.f32, kernel.hAt(0), kernel.rowStride, idx, n, out, hiddenSize);
 * ```
 */
export function gatherRows(f32: Float32Array, base: number, Hp: number, idx: Int32Array, n: number, dst: Float32Array, H: number): void {
  if (Hp === H) {
    // Unpadded rows that follow each other (a steady set of keys in the same order) copy as one span.
    for (let j = 0; j < n; ) {
      let e = j + 1;
      while (e < n && idx[e] === idx[e - 1] + 1) e++;
      const at = base + idx[j] * H;
      if (e - j === 1 && H < LOOP_BELOW) for (let i = 0, d = j * H; i < H; i++) dst[d + i] = f32[at + i];
      else dst.set(f32.subarray(at, at + (e - j) * H), j * H);
      j = e;
    }
    return;
  }
  if (H >= LOOP_BELOW) {
    for (let j = 0; j < n; j++) {
      const at = base + idx[j] * Hp;
      dst.set(f32.subarray(at, at + H), j * H);
    }
    return;
  }
  for (let j = 0, d = 0; j < n; j++, d += H) {
    const at = base + idx[j] * Hp;
    for (let i = 0; i < H; i++) dst[d + i] = f32[at + i];
  }
}

/**
 * The inverse of {@link gatherRows}: contiguous rows of `src` (`H` floats each, batch order) into
 * rows `idx[0..n)` (stride `Hp` from `base`) of `f32`.
 *
 * @example
 * ```ts
 * scatterRows(top, hiddenSize, kernel.f32, kernel.hAt(L - 1), kernel.rowStride, idx, n);
 * ```
 */
export function scatterRows(src: Float32Array, H: number, f32: Float32Array, base: number, Hp: number, idx: Int32Array, n: number): void {
  if (H >= LOOP_BELOW) {
    for (let j = 0; j < n; j++) f32.set(src.subarray(j * H, j * H + H), base + idx[j] * Hp);
    return;
  }
  for (let j = 0, s = 0; j < n; j++, s += H) {
    const at = base + idx[j] * Hp;
    for (let i = 0; i < H; i++) f32[at + i] = src[s + i];
  }
}

/**
 * Whether `idx[0..n)` are consecutive rows (`idx[j] === idx[0] + j`).
 *
 * @example
 * ```ts
 * isRun(Int32Array.of(4, 5, 6), 3); // true
 * ```
 */
export function isRun(idx: Int32Array, n: number): boolean {
  const r0 = idx[0];
  for (let j = 1; j < n; j++) if (idx[j] !== r0 + j) return false;
  return true;
}

/**
 * Rows `idx[0..n)` (stride Hp from `base`) to contiguous rows at `at` (`gather`), or back; both in
 * `f32`. Unpadded rows that follow each other move as one span (one `copyWithin` per run of
 * consecutive rows); short rows otherwise element by element (a call per 32 floats costs more).
 *
 * @example
 * ```ts
 * moveRows(kernel.f32, kernel.hAt(k), kernel.rowStride, idx, n, tensorAt, hiddenSize, true);
 * ```
 */
export function moveRows(f32: Float32Array, base: number, Hp: number, idx: Int32Array, n: number, at: number, H: number, gather: boolean): void {
  if (Hp === H) {
    for (let j = 0; j < n; ) {
      let e = j + 1;
      while (e < n && idx[e] === idx[e - 1] + 1) e++;
      const row = base + idx[j] * H;
      const dense = at + j * H;
      const len = (e - j) * H;
      if (len < LOOP_BELOW) {
        if (gather) for (let i = 0; i < len; i++) f32[dense + i] = f32[row + i];
        else for (let i = 0; i < len; i++) f32[row + i] = f32[dense + i];
      } else if (gather) f32.copyWithin(dense, row, row + len);
      else f32.copyWithin(row, dense, dense + len);
      j = e;
    }
    return;
  }
  for (let j = 0; j < n; j++) {
    const row = base + idx[j] * Hp;
    const dense = at + j * H;
    if (gather) f32.copyWithin(dense, row, row + H);
    else f32.copyWithin(row, dense, dense + H);
  }
}
