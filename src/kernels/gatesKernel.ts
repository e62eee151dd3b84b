import { gatesKernelBase64 } from './gatesKernel.wasm.js';
import { gatesKernelRelaxedBase64 } from './gatesKernelRelaxed.wasm.js';
import { kernelModule } from './kernelModule.js';
import { environmentVariable } from './internal/environment.js';

/**
 * The one wrapper of `gatesKernel.c`, used by the calling thread (`wasmStepper.ts`) and by the
 * step worker (`stepWorker.ts`) alike, so both lay memory out and pack weights the same way and
 * every row either steps is bit-identical. Dependency-free on purpose: the worker loads it alone.
 */

/** Exports of gatesKernel.c; pointers are byte offsets into `memory`. */
interface GatesKernelExports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  padded_hidden(H: number): number;
  preact_size(kind: number, H: number): number;
  tile_rows(kind: number, H: number): number;
  packed_size(kind: number, kx: number, H: number): number;
  staged_offset(kind: number, kx: number, H: number, part: number): number;
  pack(kind: number, kx: number, H: number, wih: number, whh: number, bih: number, bhh: number, w: number, bias: number): void;
  layer_step(kind: number, kx: number, H: number, x: number, xs: number, h: number, c: number, w: number, bias: number, gates: number, rows: number, rt: number): void;
  layer_step_rows(kind: number, kx: number, H: number, x: number, xs: number, xidx: number, h: number, c: number, hidx: number, w: number, bias: number, gates: number, rows: number, rt: number): void;
  first_non_finite(x: number, n: number): number;
}

/**
 * The kernel's code for each cell kind (the `kind` argument of every export).
 *
 * @example
 * ```ts
 * GATES_KERNEL_KIND[model.config.cell]; // 2 for 'lstm'
 * ```
 */
export const GATES_KERNEL_KIND: Readonly<Record<string, number>> = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, gru: 3 };

/** What the kernel needs to know of a model: plain numbers, so it can be posted to a worker. */
export interface GatesKernelShape {
  /** {@link GATES_KERNEL_KIND} of the cell. */
  readonly kind: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** True for LSTM (a `c` per layer). */
  readonly hasCellState: boolean;
  /** Inputs of each layer (`inputSize`, then `hiddenSize` for every layer above). */
  readonly layerInputs: readonly number[];
}

/** One layer's weights in PyTorch layout (`weight_ih_l{k}` [G*H, kx], `weight_hh_l{k}` [G*H, H], biases [G*H]). */
export interface GatesKernelWeights {
  readonly weightIh: Float32Array;
  readonly weightHh: Float32Array;
  readonly biasIh: Float32Array;
  readonly biasHh: Float32Array;
}

/**
 * Which build of the step kernel runs: `'relaxed-simd'` (fused multiply-add) or `'simd'`.
 *
 * @example
 * ```ts
 * const variant: GatesKernelVariant | null = gatesKernelVariant();
 * ```
 */
export type GatesKernelVariant = 'relaxed-simd' | 'simd';

let chosen: { module: WebAssembly.Module | null; variant: GatesKernelVariant | null } | undefined;

/**
 * The compiled step kernel, or `null` when this runtime cannot compile it (no WebAssembly, or no
 * SIMD128). Two builds of `gatesKernel.c` are embedded: the relaxed-SIMD one (`f32x4.relaxed_madd`,
 * a fused multiply-add on CPUs with FMA; Node 22+ by default, Node 20 with
 * `--experimental-wasm-relaxed-simd`) runs where it compiles, else the SIMD128 one. Chosen once
 * per process at the first call (the step worker gets the same module), so every row is stepped
 * by one variant; `SEQSTREAM_KERNEL_VARIANT=simd` (read then) keeps the SIMD128 build. Browsers
 * refuse synchronous compilation of modules over 4 KB on their main thread; there this returns
 * `null` and the JavaScript loops run.
 *
 * @example
 * ```ts
 * if (!gatesKernelModule()) console.warn('no WebAssembly SIMD: using the JavaScript loops');
 * ```
 */
export function gatesKernelModule(): WebAssembly.Module | null {
  if (chosen) return chosen.module;
  const relaxed = environmentVariable('SEQSTREAM_KERNEL_VARIANT') === 'simd' ? null : kernelModule(gatesKernelRelaxedBase64);
  const module = relaxed ?? kernelModule(gatesKernelBase64);
  chosen = { module, variant: relaxed ? 'relaxed-simd' : module ? 'simd' : null };
  return module;
}

/**
 * The variant {@link gatesKernelModule} runs (choosing it if nothing has yet), or `null` without
 * a kernel. Crash replay is bit-exact within one variant; across variants the last bits differ.
 *
 * @example
 * ```ts
 * gatesKernelVariant(); // 'simd' on Node 20 without --experimental-wasm-relaxed-simd
 * ```
 */
export function gatesKernelVariant(): GatesKernelVariant | null {
  gatesKernelModule();
  return chosen?.variant ?? null;
}

const PAGE = 65536;

interface LayerPtrs {
  readonly kx: number;
  w: number;
  bias: number;
  h: number;
  c: number;
}

/**
 * One instance of the step kernel for one model shape: packed weights, a gate tile, `capacity`
 * rows of input (and of row indices) and `stateRows` rows of state (row stride `Hp`, padded lanes
 * kept at 0). Two ways to use it (one per instance):
 * - copy mode, {@link stepRows}: state lives in the caller's arrays (unpadded rows of
 *   `hiddenSize`) and is copied in and out around each step; memory grows to the largest batch.
 * - resident mode, {@link reserveResident} + {@link stepResident}: the state rows live here, in
 *   kernel memory, and a batch is any set of distinct rows, stepped by index where they are (no
 *   gather or scatter). Read and write them through {@link f32} at {@link hAt}/{@link cAt}.
 * A row's result is bit-identical either way and whatever batch it is in.
 *
 * @example
 * ```ts
 * const kernel = new GatesKernel(gatesKernelModule()!, { kind: GATES_KERNEL_KIND.lstm, inputSize: 8, hiddenSize: 16, hasCellState: true, layerInputs: [8] });
 * kernel.setWeights(model.layers);
 * kernel.stepRows(x, state.h, state.c, 0, state.batch);
 * ```
 */
export class GatesKernel {
  private readonly k: GatesKernelExports;
  private f32View: Float32Array;
  private i32View: Int32Array;
  private readonly kind: number;
  private readonly H: number;
  private readonly I: number;
  private readonly Hp: number;
  private readonly P: number;
  private readonly rt: number;
  private readonly hasC: boolean;
  private readonly layers: LayerPtrs[];
  private weights: readonly GatesKernelWeights[] | null = null;
  private capacity = 0;
  /** State rows laid out (copy mode: `capacity`). */
  private stateRows = 0;
  private resident = false;
  private gates = 0;
  private x = 0;
  private idx = 0;
  private scratch = 0;
  private scratchFloats = 0;
  private stage = 0;

  constructor(module: WebAssembly.Module, shape: GatesKernelShape) {
    this.k = new WebAssembly.Instance(module, {}).exports as unknown as GatesKernelExports;
    this.f32View = new Float32Array(this.k.memory.buffer);
    this.i32View = new Int32Array(this.k.memory.buffer);
    this.kind = shape.kind;
    this.H = shape.hiddenSize;
    this.I = shape.inputSize;
    this.hasC = shape.hasCellState;
    this.Hp = this.k.padded_hidden(this.H);
    this.P = this.k.preact_size(this.kind, this.H);
    this.rt = this.k.tile_rows(this.kind, this.H);
    this.layers = shape.layerInputs.map((kx) => ({ kx, w: 0, bias: 0, h: 0, c: 0 }));
  }

  /** Takes new weights (one entry per layer) and packs them into kernel memory. */
  setWeights(layers: readonly GatesKernelWeights[]): void {
    this.weights = layers;
    if (this.capacity > 0) this.pack();
  }

  /**
   * Steps rows `[r0, r0 + rows)` in place: inputs from the same rows of `x` (`inputSize` each),
   * state rows of `h[layer]` (and `c[layer]`), `hiddenSize` each. Needs {@link setWeights} first.
   */
  stepRows(x: ArrayLike<number>, h: readonly Float32Array[], c: readonly Float32Array[] | null, r0: number, rows: number): void {
    if (rows === 0) return;
    if (this.resident) throw new Error('GatesKernel: stepRows() on a resident-mode instance');
    if (rows > this.capacity) {
      const cap = Math.max(rows, this.capacity * 2, 1);
      this.layout(cap, cap);
    }
    const { k, H, Hp, I, layers } = this;
    const f32 = this.f32View;
    const n = rows * I;
    const xo = this.x >> 2;
    const x0 = r0 * I;
    if (ArrayBuffer.isView(x) && x.length >= x0 + n) {
      const xa = x as Float32Array;
      f32.set(x0 === 0 && xa.length === n ? xa : xa.subarray(x0, x0 + n), xo);
    } else {
      for (let i = 0; i < n; i++) f32[xo + i] = x[x0 + i];
    }
    const withC = this.hasC && c !== null;
    for (let i = 0; i < layers.length; i++) {
      copyIn(f32, h[i], r0 * H, layers[i].h >> 2, rows, H, Hp);
      if (withC) copyIn(f32, c[i], r0 * H, layers[i].c >> 2, rows, H, Hp);
    }
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      const xPtr = i === 0 ? this.x : layers[i - 1].h;
      const xs = i === 0 ? I : Hp;
      k.layer_step(this.kind, l.kx, H, xPtr, xs, l.h, l.c, l.w, l.bias, this.gates, rows, this.rt);
    }
    for (let i = 0; i < layers.length; i++) {
      copyOut(f32, h[i], r0 * H, layers[i].h >> 2, rows, H, Hp);
      if (withC) copyOut(f32, c[i], r0 * H, layers[i].c >> 2, rows, H, Hp);
    }
  }

  /**
   * Index of the first of the `n` floats at float index `at` of {@link f32} that is NaN or
   * ±Infinity, or `n` when all are finite (SIMD, 16 floats a round). `at` must be a multiple of 4.
   */
  firstNonFinite(at: number, n: number): number {
    return this.k.first_non_finite(at << 2, n);
  }

  /** Padded row stride of the state rows, in floats. */
  get rowStride(): number {
    return this.Hp;
  }

  /** The kernel's memory as floats (a new view after memory grows: fetch it again after {@link reserveResident}). */
  get f32(): Float32Array {
    return this.f32View;
  }

  /** Float index in {@link f32} of the resident-mode scratch area (`scratchFloats` of {@link reserveResident}; its contents do not survive a regrow). */
  get scratchAt(): number {
    return this.scratch >> 2;
  }

  /** Float index in {@link f32} where layer `layer`'s resident `h` rows start (row `r` at `+ r * rowStride`). */
  hAt(layer: number): number {
    return this.layers[layer].h >> 2;
  }

  /** Float index in {@link f32} where layer `layer`'s resident `c` rows start (LSTM only). */
  cAt(layer: number): number {
    return this.layers[layer].c >> 2;
  }

  /**
   * Resident mode: makes room for `stateRows` state rows and batches of up to `batchRows` rows,
   * keeping the contents of the rows held so far (new rows are zero). Only grows.
   */
  reserveResident(stateRows: number, batchRows: number, scratchFloats = 0): void {
    this.resident = true;
    if (stateRows <= this.stateRows && batchRows <= this.capacity && scratchFloats <= this.scratchFloats) return;
    this.scratchFloats = Math.max(scratchFloats, this.scratchFloats);
    const oldRows = this.stateRows;
    const saved = this.layers.map((l) => ({
      h: this.f32View.slice(l.h >> 2, (l.h >> 2) + oldRows * this.Hp),
      c: l.c ? this.f32View.slice(l.c >> 2, (l.c >> 2) + oldRows * this.Hp) : null,
    }));
    this.layout(Math.max(batchRows, this.capacity), Math.max(stateRows, this.stateRows));
    this.layers.forEach((l, i) => {
      if (oldRows === 0) return;
      this.f32View.set(saved[i].h, l.h >> 2);
      if (l.c && saved[i].c) this.f32View.set(saved[i].c, l.c >> 2);
    });
  }

  /**
   * Resident mode: steps the `n` distinct state rows `idx[0..n)` in place, batch row `j` reading
   * its input at `x[j * inputSize]` (`xFrom` floats in). Needs {@link setWeights} and
   * {@link reserveResident} (rows below `stateRows`, `n` at most `batchRows`) first.
   */
  stepResident(idx: Int32Array, n: number, x: Float32Array, xFrom = 0): void {
    if (n === 0) return;
    if (!this.resident || n > this.capacity) throw new Error('GatesKernel: reserveResident() before stepResident()');
    const { k, I, H, Hp, layers } = this;
    const f32 = this.f32View;
    // Inputs staged in this memory already (ResidentRows.stage) are copied as they are: `set`
    // handles an overlap, but a span that already is the input area needs no copy at all.
    if (!(x.buffer === f32.buffer && x.byteOffset + xFrom * 4 === this.x)) f32.set(x.subarray(xFrom, xFrom + n * I), this.x >> 2);
    const at = this.idx >> 2;
    const i32 = this.i32View;
    for (let j = 0; j < n; j++) i32[at + j] = idx[j];
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      // Layer 0 reads the contiguous inputs; layer i reads layer i-1's new h at the same rows.
      if (i === 0) k.layer_step_rows(this.kind, l.kx, H, this.x, I, 0, l.h, l.c, this.idx, l.w, l.bias, this.gates, n, this.rt);
      else k.layer_step_rows(this.kind, l.kx, H, layers[i - 1].h, Hp, this.idx, l.h, l.c, this.idx, l.w, l.bias, this.gates, n, this.rt);
    }
  }

  /** Lays memory out for `capacity` batch rows and `stateRows` state rows (both only grow) and packs the weights again there. */
  private layout(capacity: number, stateRows: number): void {
    const { k, kind, P, Hp, H, I } = this;
    let top = align(k.__heap_base.value as number);
    const alloc = (floats: number): number => {
      const p = top;
      top = align(top + floats * 4);
      return p;
    };
    for (const l of this.layers) {
      l.w = alloc(k.packed_size(kind, l.kx, H));
      l.bias = alloc(P);
    }
    this.gates = alloc(this.rt * P);
    this.x = alloc(capacity * I);
    this.idx = alloc(capacity);
    for (const l of this.layers) {
      l.h = alloc(stateRows * Hp);
      l.c = this.hasC ? alloc(stateRows * Hp) : 0;
    }
    this.scratch = alloc(this.scratchFloats);
    // Raw PyTorch-layout weights are staged past the end while packing.
    const staging = Math.max(...this.layers.map((l) => k.staged_offset(kind, l.kx, H, 4)));
    const end = top + staging;
    const have = k.memory.buffer.byteLength;
    if (end > have) k.memory.grow(Math.ceil((end - have) / PAGE));
    this.f32View = new Float32Array(k.memory.buffer);
    this.i32View = new Int32Array(k.memory.buffer);
    this.stage = top;
    // Padded lanes of h and c must start (and then stay) exactly 0.
    for (const l of this.layers) {
      this.f32View.fill(0, l.h >> 2, (l.h >> 2) + stateRows * Hp);
      if (l.c) this.f32View.fill(0, l.c >> 2, (l.c >> 2) + stateRows * Hp);
    }
    this.capacity = capacity;
    this.stateRows = stateRows;
    this.pack();
  }

  private pack(): void {
    const { k, kind, H, stage } = this;
    const f32 = this.f32View;
    const weights = this.weights;
    if (!weights) throw new Error('GatesKernel: setWeights() before stepRows()');
    this.layers.forEach((l, i) => {
      const src = weights[i];
      const at = (part: number): number => stage + k.staged_offset(kind, l.kx, H, part);
      f32.set(src.weightIh, at(0) >> 2);
      f32.set(src.weightHh, at(1) >> 2);
      f32.set(src.biasIh, at(2) >> 2);
      f32.set(src.biasHh, at(3) >> 2);
      k.pack(kind, l.kx, H, at(0), at(1), at(2), at(3), l.w, l.bias);
    });
  }
}

function align(p: number): number {
  return (p + 15) & ~15;
}

function copyIn(f32: Float32Array, src: Float32Array, from: number, at: number, B: number, H: number, Hp: number): void {
  if (H === Hp) {
    f32.set(from === 0 && src.length === B * H ? src : src.subarray(from, from + B * H), at);
    return;
  }
  for (let b = 0; b < B; b++) {
    const s = from + b * H;
    const d = at + b * Hp;
    for (let j = 0; j < H; j++) f32[d + j] = src[s + j];
  }
}

function copyOut(f32: Float32Array, dst: Float32Array, to: number, at: number, B: number, H: number, Hp: number): void {
  if (H === Hp) {
    dst.set(f32.subarray(at, at + B * H), to);
    return;
  }
  for (let b = 0; b < B; b++) {
    const s = at + b * Hp;
    const d = to + b * H;
    for (let j = 0; j < H; j++) dst[d + j] = f32[s + j];
  }
}
