import { kernelModule } from './kernelModule.js';
import { environmentVariable } from './internal/environment.js';
import { trainKernelBase64 } from './trainKernel.wasm.js';

/**
 * `out[outOff + r] (+)= Σ_{k<n} W[wOff + r*ldw + k] * x[xOff + k]` for `r < rows`, in float64.
 * With `accumulate` the products are added to `out`, else they replace it.
 */
export type MatVec = (
  W: Float64Array,
  wOff: number,
  ldw: number,
  x: Float64Array,
  xOff: number,
  out: Float64Array,
  outOff: number,
  rows: number,
  n: number,
  accumulate: boolean,
) => void;

/** Allocates a zeroed float64 buffer that the kernel can read and write. */
export type Float64Allocator = (length: number) => Float64Array;

/**
 * The linear algebra of the fused TBPTT engine: one matrix-vector product, and the allocator whose
 * buffers it can work on. `'wasm-simd'` runs `kernels/trainKernel.c` (f64x2 SIMD) on buffers in
 * its own WebAssembly memory; `'js'` is plain loops on ordinary arrays. Both accumulate in float64.
 */
export interface TrainKernel {
  readonly kind: 'js' | 'wasm-simd';
  readonly matvec: MatVec;
  readonly alloc: Float64Allocator;
}

/**
 * Float64 dot product with four accumulators (the JavaScript kernel's inner loop).
 *
 * @example
 * ```ts
 * dot(Float64Array.of(1, 2, 3), 0, Float64Array.of(4, 5, 6), 0, 3); // 32
 * ```
 */
export function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += a[ao + k] * b[bo + k];
    s1 += a[ao + k + 1] * b[bo + k + 1];
    s2 += a[ao + k + 2] * b[bo + k + 2];
    s3 += a[ao + k + 3] * b[bo + k + 3];
  }
  for (; k < n; k++) s0 += a[ao + k] * b[bo + k];
  return s0 + s1 + s2 + s3;
}

const jsMatVec: MatVec = (W, wOff, ldw, x, xOff, out, outOff, rows, n, accumulate) => {
  for (let r = 0; r < rows; r++) {
    const s = dot(W, wOff + r * ldw, x, xOff, n);
    out[outOff + r] = accumulate ? out[outOff + r] + s : s;
  }
};

/**
 * The JavaScript kernel: ordinary `Float64Array`s and float loops.
 *
 * @example
 * ```ts
 * const k = jsTrainKernel();
 * const out = k.alloc(2);
 * k.matvec(Float64Array.of(1, 2, 3, 4), 0, 2, Float64Array.of(1, 1), 0, out, 0, 2, 2, false); // out = [3, 7]
 * ```
 */
export function jsTrainKernel(): TrainKernel {
  return { kind: 'js', matvec: jsMatVec, alloc: (n) => new Float64Array(n) };
}

interface TrainKernelExports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  matvec(W: number, ldw: number, x: number, out: number, rows: number, n: number, accumulate: number): void;
}

/**
 * Builds something whose buffers all come from one {@link TrainKernel}: `build` runs once with a
 * counting allocator to size the WebAssembly memory, then again with buffers in that memory (which
 * never grows afterwards, so the views stay valid). Falls back to the JavaScript kernel when the
 * WebAssembly SIMD module cannot load, or when `SEQSTREAM_KERNEL=js` is set.
 *
 * @example
 * ```ts
 * const { kernel, value: buffers } = withTrainKernel((alloc) => ({ a: alloc(1024), b: alloc(32) }));
 * kernel.kind; // 'wasm-simd' where supported
 * ```
 */
export function withTrainKernel<T>(build: (alloc: Float64Allocator) => T, prefer: 'auto' | 'js' = 'auto'): { kernel: TrainKernel; value: T } {
  const module = prefer === 'js' || environmentVariable('SEQSTREAM_KERNEL') === 'js' ? null : kernelModule(trainKernelBase64);
  if (!module) {
    const kernel = jsTrainKernel();
    return { kernel, value: build(kernel.alloc) };
  }
  let bytes = 0;
  build((n) => {
    bytes += align16(n * 8);
    return new Float64Array(n);
  });
  const exp = new WebAssembly.Instance(module, {}).exports as unknown as TrainKernelExports;
  let next = align16(exp.__heap_base.value as number);
  const need = next + bytes;
  const have = exp.memory.buffer.byteLength;
  try {
    if (need > have) exp.memory.grow(Math.ceil((need - have) / 65536));
  } catch {
    // beyond what one WebAssembly memory can hold here (4 GiB, or less in some runtimes)
    const kernel = jsTrainKernel();
    return { kernel, value: build(kernel.alloc) };
  }
  const buffer = exp.memory.buffer;
  const alloc: Float64Allocator = (n) => {
    const view = new Float64Array(buffer, next, n);
    next += align16(n * 8);
    return view;
  };
  const matvec: MatVec = (W, wOff, ldw, x, xOff, out, outOff, rows, n, accumulate) =>
    exp.matvec(W.byteOffset + wOff * 8, ldw, x.byteOffset + xOff * 8, out.byteOffset + outOff * 8, rows, n, accumulate ? 1 : 0);
  const kernel: TrainKernel = { kind: 'wasm-simd', matvec, alloc };
  return { kernel, value: build(alloc) };
}

function align16(n: number): number {
  return (n + 15) & ~15;
}
