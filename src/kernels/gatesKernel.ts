import { gatesKernelBase64 } from './gatesKernel.wasm.js';
import { kernelModule } from './kernelModule.js';

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
 * The compiled step kernel, or `null` when this runtime cannot compile it (no WebAssembly, or no
 * SIMD128). Compiled synchronously once per process. Browsers refuse synchronous compilation of
 * modules over 4 KB on their main thread; there this returns `null` and the JavaScript loops run.
 *
 * @example
 * ```ts
 * if (!gatesKernelModule()) console.warn('no WebAssembly SIMD: using the JavaScript loops');
 * ```
 */
export function gatesKernelModule(): WebAssembly.Module | null {
  return kernelModule(gatesKernelBase64);
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
 * One instance of the step kernel for one model shape: packed weights, a gate tile and `capacity`
 * rows of input and state (row stride `Hp`, padded lanes kept at 0), grown to the largest batch
 * stepped. State lives in the caller's arrays (unpadded rows of `hiddenSize`) and is copied in and
 * out around each step.
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
  private f32: Float32Array;
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
  private gates = 0;
  private x = 0;
  private stage = 0;

  constructor(module: WebAssembly.Module, shape: GatesKernelShape) {
    this.k = new WebAssembly.Instance(module, {}).exports as unknown as GatesKernelExports;
    this.f32 = new Float32Array(this.k.memory.buffer);
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
    if (rows > this.capacity) this.layout(Math.max(rows, this.capacity * 2, 1));
    const { f32, k, H, Hp, I, layers } = this;
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

  /** Lays memory out for `capacity` rows (it only grows) and packs the weights again there. */
  private layout(capacity: number): void {
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
    for (const l of this.layers) {
      l.h = alloc(capacity * Hp);
      l.c = this.hasC ? alloc(capacity * Hp) : 0;
    }
    // Raw PyTorch-layout weights are staged past the end while packing.
    const staging = Math.max(...this.layers.map((l) => k.staged_offset(kind, l.kx, H, 4)));
    const end = top + staging;
    const have = k.memory.buffer.byteLength;
    if (end > have) k.memory.grow(Math.ceil((end - have) / PAGE));
    this.f32 = new Float32Array(k.memory.buffer);
    this.stage = top;
    // Padded lanes of h and c must start (and then stay) exactly 0.
    for (const l of this.layers) {
      this.f32.fill(0, l.h >> 2, (l.h >> 2) + capacity * Hp);
      if (l.c) this.f32.fill(0, l.c >> 2, (l.c >> 2) + capacity * Hp);
    }
    this.capacity = capacity;
    this.pack();
  }

  private pack(): void {
    const { k, f32, kind, H, stage } = this;
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
