import type { ModelState } from '../../cells/types.js';
import type { GatesKernel } from '../gatesKernel.js';
import type { OnnxStepper } from '../onnxEngine.js';
import { isRun, moveRows, scatterRows, type RowLayout } from './rowCopy.js';

/**
 * A native step of the resident rows `idx[0..n)` of `kernel`: gathered into onnxruntime's input
 * tensors and scattered back from its output tensors, all preallocated in the kernel's own memory
 * from float `tensorsAt` on (`maxBatch` rows per tensor), so both copies are `copyWithin` inside one
 * buffer. With `top` the top layer's new `h` is written there (it is that output tensor) and the
 * result is -1; otherwise the result is where that tensor is in `kernel.f32` (rows in batch order),
 * or, with `lend`, the binding's own fresh copy of it when it made one that is safe to hand out
 * (`OnnxStepper.stepTo`): a buffer nothing else holds, for the caller to keep.
 *
 * @example
 * ```ts
 * const topAt = stepRowsNative(native, kernel, layout, kernel.scratchAt + stagingFloats, maxBatch, idx, n, x, undefined);
 * ```
 */
export function stepRowsNative(native: OnnxStepper, kernel: GatesKernel, layout: RowLayout, tensorsAt: number, maxBatch: number, idx: Int32Array, n: number, x: Float32Array, top: Float32Array | undefined, lend = false): number | Float32Array {
  const { L, H, Hp, I, hasC } = layout;
  const f32 = kernel.f32;
  const area = maxBatch * H;
  let at = tensorsAt;
  const tensors = (): ModelState => {
    const s: ModelState = { batch: n, h: [], c: hasC ? [] : null };
    for (let k = 0; k < L; k++) {
      s.h.push(f32.subarray(at, at + n * H));
      at += area;
      if (s.c) {
        s.c.push(f32.subarray(at, at + n * H));
        at += area;
      }
    }
    return s;
  };
  // Rows that follow each other in memory (a steady set of keys sent in the same order gets
  // consecutive rows) already are onnxruntime's input tensor: no gather at all.
  const inPlace = Hp === H && isRun(idx, n);
  const first = idx[0] * H;
  const input: ModelState = inPlace
    ? { batch: n, h: Array.from({ length: L }, (_, k) => f32.subarray(kernel.hAt(k) + first, kernel.hAt(k) + first + n * H)), c: hasC ? Array.from({ length: L }, (_, k) => f32.subarray(kernel.cAt(k) + first, kernel.cAt(k) + first + n * H)) : null }
    : tensors();
  const output = tensors();
  // The caller's buffer is the top layer's h output tensor: no copy out of ours afterwards.
  const topOut = top === undefined ? null : top.length === n * H ? top : top.subarray(0, n * H);
  if (topOut) output.h[L - 1] = topOut;
  if (!inPlace) {
    for (let k = 0; k < L; k++) {
      moveRows(f32, kernel.hAt(k), Hp, idx, n, input.h[k].byteOffset >> 2, H, true);
      if (input.c) moveRows(f32, kernel.cAt(k), Hp, idx, n, input.c[k].byteOffset >> 2, H, true);
    }
  }
  const fresh = native.stepTo(input, x.length === n * I ? x : x.subarray(0, n * I), output);
  for (let k = 0; k < L; k++) {
    if (k === L - 1 && topOut) {
      if (Hp === H && isRun(idx, n)) f32.set(topOut, kernel.hAt(k) + idx[0] * H);
      else scatterRows(topOut, H, f32, kernel.hAt(k), Hp, idx, n);
    } else moveRows(f32, kernel.hAt(k), Hp, idx, n, output.h[k].byteOffset >> 2, H, false);
    if (output.c) moveRows(f32, kernel.cAt(k), Hp, idx, n, output.c[k].byteOffset >> 2, H, false);
  }
  if (topOut) return -1; // the caller's buffer has it, and top() would read the rows again
  if (lend && fresh !== null) return fresh;
  return output.h[L - 1].byteOffset >> 2;
}
