import type { ModelState } from '../../cells/types.js';
import type { GatesKernel } from '../gatesKernel.js';
import type { OnnxStepper } from '../onnxEngine.js';
import { isRun, moveRows, scatterRows, type RowLayout } from './rowCopy.js';

/**
 * Where onnxruntime's state tensors are in the kernel's memory: two sets (`h`, and `c` for LSTM,
 * of every layer, `maxBatch` rows per tensor) from float `at` on.
 *
 * @example
 * ```ts
 * const area: NativeTensors = { at: kernel.scratchAt + stagingFloats, maxBatch: 1024 };
 * ```
 */
export interface NativeTensors {
  readonly at: number;
  readonly maxBatch: number;
}

/**
 * A run of consecutive key rows whose current state a native step left in one of its two tensor
 * sets instead of copying it back (set -1: none; the rows hold their own state). The next native
 * step of exactly these rows reads that set and writes the other one (ping-pong), so a steady set
 * of keys is never copied between its rows and onnxruntime's tensors; anything else that touches
 * the rows copies the set back first ({@link settleRows}).
 *
 * @example
 * ```ts
 * const moved: DisplacedRows = { first: 0, n: 0, set: -1 };
 * ```
 */
export interface DisplacedRows {
  first: number;
  n: number;
  set: number;
}

/**
 * Copies the state of displaced rows (see {@link DisplacedRows}) from their tensor set back into
 * the rows, and marks them home. Nothing to do when none are displaced.
 *
 * @example
 * ```ts
 * settleRows(kernel, layout, tensors, moved); // before reading, writing or regrowing the rows
 * ```
 */
export function settleRows(kernel: GatesKernel, layout: RowLayout, tensors: NativeTensors, moved: DisplacedRows): void {
  if (moved.set < 0) return;
  const { L, H, hasC } = layout;
  const f32 = kernel.f32;
  const s = tensorSet(f32, layout, tensors, moved.set, moved.n);
  const first = moved.first * H;
  for (let k = 0; k < L; k++) {
    f32.copyWithin(kernel.hAt(k) + first, s.h[k].byteOffset >> 2, (s.h[k].byteOffset >> 2) + moved.n * H);
    if (hasC && s.c) f32.copyWithin(kernel.cAt(k) + first, s.c[k].byteOffset >> 2, (s.c[k].byteOffset >> 2) + moved.n * H);
  }
  moved.set = -1;
}

/**
 * Zeroes key row `row` where its state is while it is displaced (its tensor set; the row itself
 * is stale until {@link settleRows}); false, with nothing changed, when it is not displaced.
 *
 * @example
 * ```ts
 * if (!zeroDisplaced(kernel, layout, tensors, moved, row)) zeroTheRowItself(row);
 * ```
 */
export function zeroDisplaced(kernel: GatesKernel, layout: RowLayout, tensors: NativeTensors, moved: DisplacedRows, row: number): boolean {
  if (moved.set < 0 || row < moved.first || row >= moved.first + moved.n) return false;
  const { L, H } = layout;
  const f32 = kernel.f32;
  const s = tensorSet(f32, layout, tensors, moved.set, moved.n);
  const j = (row - moved.first) * H;
  for (let k = 0; k < L; k++) {
    s.h[k].fill(0, j, j + H);
    s.c?.[k].fill(0, j, j + H);
  }
  return true;
}

/**
 * A native step of the resident rows `idx[0..n)` of `kernel`, through onnxruntime's state
 * tensors preallocated in the kernel's own memory (`tensors`). Rows that follow each other in
 * memory (a steady set of keys sent in the same order gets consecutive rows) are onnxruntime's
 * input tensor themselves, or, when the last native step displaced exactly these rows (`moved`),
 * the tensor set it wrote; the new state is written into the other set and left there (`moved`
 * says so) instead of being copied back. Other batches are gathered into the first set and
 * scattered back from the second (`copyWithin` inside one buffer), after displaced rows are
 * settled. With `top` the top layer's new `h` is written there too (for a gathered batch `top` is
 * that output tensor) and the result is -1; otherwise the result is where that tensor is in
 * `kernel.f32` (rows in batch order), or, with `lend`, the binding's own fresh copy of it when it
 * made one that is safe to hand out (`OnnxStepper.stepTo`): a buffer nothing else holds.
 *
 * @example
 * ```ts
 * const topAt = stepRowsNative(native, kernel, layout, tensors, moved, idx, n, x, undefined);
 * ```
 */
export function stepRowsNative(native: OnnxStepper, kernel: GatesKernel, layout: RowLayout, tensors: NativeTensors, moved: DisplacedRows, idx: Int32Array, n: number, x: Float32Array, top: Float32Array | undefined, lend = false): number | Float32Array {
  const { L, H, Hp, I, hasC } = layout;
  const xs = x.length === n * I ? x : x.subarray(0, n * I);
  const run = Hp === H && isRun(idx, n);
  if (run) {
    const first = idx[0];
    if (moved.set >= 0 && (moved.first !== first || moved.n !== n)) settleRows(kernel, layout, tensors, moved);
    const f32 = kernel.f32;
    const from = moved.set;
    const to = from === 1 ? 0 : 1;
    const input: ModelState =
      from >= 0
        ? tensorSet(f32, layout, tensors, from, n)
        : { batch: n, h: Array.from({ length: L }, (_, k) => f32.subarray(kernel.hAt(k) + first * H, kernel.hAt(k) + (first + n) * H)), c: hasC ? Array.from({ length: L }, (_, k) => f32.subarray(kernel.cAt(k) + first * H, kernel.cAt(k) + (first + n) * H)) : null };
    const output = tensorSet(f32, layout, tensors, to, n);
    const fresh = native.stepTo(input, xs, output);
    moved.first = first;
    moved.n = n;
    moved.set = to;
    const topAt = output.h[L - 1].byteOffset >> 2;
    if (top !== undefined) {
      // n * H floats for the caller instead of 2 * L * n * H back into the rows.
      top.set(f32.subarray(topAt, topAt + n * H));
      return -1;
    }
    if (lend && fresh !== null) return fresh;
    return topAt;
  }
  settleRows(kernel, layout, tensors, moved);
  const f32 = kernel.f32;
  const input = tensorSet(f32, layout, tensors, 0, n);
  const output = tensorSet(f32, layout, tensors, 1, n);
  // The caller's buffer is the top layer's h output tensor: no copy out of ours afterwards.
  const topOut = top === undefined ? null : top.length === n * H ? top : top.subarray(0, n * H);
  if (topOut) output.h[L - 1] = topOut;
  for (let k = 0; k < L; k++) {
    moveRows(f32, kernel.hAt(k), Hp, idx, n, input.h[k].byteOffset >> 2, H, true);
    if (input.c) moveRows(f32, kernel.cAt(k), Hp, idx, n, input.c[k].byteOffset >> 2, H, true);
  }
  const fresh = native.stepTo(input, xs, output);
  for (let k = 0; k < L; k++) {
    if (k === L - 1 && topOut) scatterRows(topOut, H, f32, kernel.hAt(k), Hp, idx, n);
    else moveRows(f32, kernel.hAt(k), Hp, idx, n, output.h[k].byteOffset >> 2, H, false);
    if (output.c) moveRows(f32, kernel.cAt(k), Hp, idx, n, output.c[k].byteOffset >> 2, H, false);
  }
  if (topOut) return -1; // the caller's buffer has it, and top() would read the rows again
  if (lend && fresh !== null) return fresh;
  return output.h[L - 1].byteOffset >> 2;
}

/** Views of tensor set `set` (0 or 1) for `n` rows: `h` (and `c`) of each layer, `maxBatch` rows apart. */
function tensorSet(f32: Float32Array, layout: RowLayout, tensors: NativeTensors, set: number, n: number): ModelState {
  const { L, H, hasC } = layout;
  const area = tensors.maxBatch * H;
  let at = tensors.at + set * (hasC ? 2 : 1) * L * area;
  const s: ModelState = { batch: n, h: new Array(L), c: hasC ? new Array(L) : null };
  for (let k = 0; k < L; k++) {
    s.h[k] = f32.subarray(at, at + n * H);
    at += area;
    if (s.c) {
      s.c[k] = f32.subarray(at, at + n * H);
      at += area;
    }
  }
  return s;
}
