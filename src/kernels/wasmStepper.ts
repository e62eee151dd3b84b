import { InvalidOptionError } from '../errors.js';
import type { FusedStepper } from './fusedStepper.js';
import type { RecurrentModel } from '../cells/model.js';
import type { CellKind, ModelState } from '../cells/types.js';
import { gatesKernelBase64 } from './gatesKernel.wasm.js';
import { stepSplit, stepThreads } from './stepPool.js';

/** Exports of gatesKernel.c; pointers are byte offsets into `memory`. */
interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  packed_size(kind: number, kx: number, H: number): number;
  pack(kind: number, kx: number, H: number, wih: number, whh: number, bih: number, bhh: number, w: number, bias: number): void;
  layer_step(kind: number, kx: number, H: number, x: number, xs: number, h: number, c: number, w: number, bias: number, gates: number, rows: number, rt: number): void;
}

const KIND_CODE: Record<CellKind, number> = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, gru: 3 };
const PAGE = 65536;
/**
 * Smallest batch work (rows x multiply-adds per row) split across threads. Break-even measured on an
 * idle 2-core machine is ~0.6M (LSTM I=40 H=32 at 64 rows: 0.97x); 2M leaves room for a busy machine
 * where the worker wakes later (H=32: 218+ rows, 1.5x at 256; H=128: 23+ rows, 1.4x at 32).
 */
const SPLIT_MIN_WORK = 2_000_000;

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled kernel, or `null` when this runtime cannot compile it (no WebAssembly, or no SIMD128).
 * Compiled synchronously once per process. Browsers refuse synchronous compilation of modules over
 * 4 KB on their main thread; there this returns `null` and the JavaScript loops run instead.
 *
 * @example
 * ```ts
 * if (!gatesKernelModule()) console.warn('no WebAssembly SIMD: using the JavaScript loops');
 * ```
 */
export function gatesKernelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled = new WebAssembly.Module(decodeBase64(gatesKernelBase64));
  } catch {
    compiled = null;
  }
  return compiled;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

interface LayerPtrs {
  readonly kx: number;
  w: number;
  bias: number;
  h: number;
  c: number;
}

/**
 * One kernel instance per model (shared by all its steppers: JavaScript runs one step at a time and
 * every step copies its state in and out). Holds the packed weights of the model version it last
 * saw and buffers for the largest batch stepped so far.
 */
class KernelContext {
  private readonly k: KernelExports;
  private f32: Float32Array;
  private readonly kind: number;
  private readonly H: number;
  private readonly Hp: number;
  private readonly P: number;
  private readonly I: number;
  private readonly layers: LayerPtrs[];
  private version = -1;
  private capacity = 0;
  private rt = 4;
  private gates = 0;
  private x = 0;

  /** Multiply-adds of one row through every layer: how much work a batch is, to decide a split. */
  private readonly rowWork: number;

  constructor(
    private readonly model: RecurrentModel,
    private readonly module: WebAssembly.Module,
  ) {
    this.k = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    this.f32 = new Float32Array(this.k.memory.buffer);
    const { cell, hiddenSize, inputSize } = model.config;
    this.kind = KIND_CODE[cell];
    this.H = hiddenSize;
    this.Hp = (hiddenSize + 3) & ~3;
    this.P = (cell === 'lstm' || cell === 'gru' ? 4 : 1) * this.Hp;
    this.I = inputSize;
    this.layers = model.layers.map((l) => ({ kx: l.inputSize, w: 0, bias: 0, h: 0, c: 0 }));
    this.rowWork = model.layers.reduce((sum, l) => sum + model.cellDefinition.gates * hiddenSize * (l.inputSize + hiddenSize), 0);
  }

  /** Lays memory out for `batch` rows (growing it) and packs the weights when the model changed. */
  prepare(batch: number): void {
    if (batch > this.capacity) {
      this.layout(Math.max(batch, this.capacity * 2, 1));
      this.version = -1;
    }
    if (this.version !== this.model.version) this.packWeights();
  }

  private layout(capacity: number): void {
    const { k, P, Hp, H, I } = this;
    const G = this.model.cellDefinition.gates;
    let top = align(k.__heap_base.value as number);
    const alloc = (floats: number): number => {
      const p = top;
      top = align(top + floats * 4);
      return p;
    };
    // Gate tile of about 256 KB (L2-resident) but at least 4 rows; batch-1 steps use one row of it.
    this.rt = Math.max(4, Math.min(128, Math.floor(65536 / P) & ~3));
    for (const l of this.layers) {
      l.w = alloc(k.packed_size(this.kind, l.kx, H));
      l.bias = alloc(P);
    }
    this.gates = alloc(this.rt * P);
    this.x = alloc(capacity * I);
    for (const l of this.layers) {
      l.h = alloc(capacity * Hp);
      l.c = this.model.cellDefinition.hasCellState ? alloc(capacity * Hp) : 0;
    }
    // Raw PyTorch-layout weights are staged past the end while packing.
    const maxKx = Math.max(...this.layers.map((l) => l.kx));
    const end = top + (G * H * (maxKx + H) + 2 * G * H) * 4 + 64;
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
  }

  private stage = 0;

  private packWeights(): void {
    const { k, f32 } = this;
    this.model.layers.forEach((src, i) => {
      const l = this.layers[i];
      const wih = this.stage;
      const whh = align(wih + src.weightIh.length * 4);
      const bih = align(whh + src.weightHh.length * 4);
      const bhh = align(bih + src.biasIh.length * 4);
      f32.set(src.weightIh, wih >> 2);
      f32.set(src.weightHh, whh >> 2);
      f32.set(src.biasIh, bih >> 2);
      f32.set(src.biasHh, bhh >> 2);
      k.pack(this.kind, l.kx, this.H, wih, whh, bih, bhh, l.w, l.bias);
    });
    this.version = this.model.version;
  }

  /** Steps all rows, split across `threads` threads when the batch is large enough to pay. */
  step(state: ModelState, x: ArrayLike<number>, threads: number): Float32Array {
    const B = state.batch;
    if (B === 0) return state.h[this.layers.length - 1];
    if (threads < 2 || B * this.rowWork < SPLIT_MIN_WORK || !stepSplit(this.model, state, x, threads, this.module, (r0, n) => this.stepRows(state, x, r0, n))) {
      this.stepRows(state, x, 0, B);
    }
    return state.h[this.layers.length - 1];
  }

  /** Steps rows `[r0, r0 + B)` of `state` (inputs from the same rows of `x`) on this thread. */
  stepRows(state: ModelState, x: ArrayLike<number>, r0: number, B: number): void {
    if (B === 0) return;
    this.prepare(B);
    const { f32, k, H, Hp, I, layers } = this;
    const n = B * I;
    const xo = this.x >> 2;
    const x0 = r0 * I;
    if (ArrayBuffer.isView(x) && x.length >= x0 + n) {
      const xa = x as Float32Array;
      f32.set(x0 === 0 && xa.length === n ? xa : xa.subarray(x0, x0 + n), xo);
    } else {
      for (let i = 0; i < n; i++) f32[xo + i] = x[x0 + i];
    }
    for (let i = 0; i < layers.length; i++) {
      copyIn(f32, state.h[i], r0 * H, layers[i].h >> 2, B, H, Hp);
      if (state.c) copyIn(f32, state.c[i], r0 * H, layers[i].c >> 2, B, H, Hp);
    }
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      const xPtr = i === 0 ? this.x : layers[i - 1].h;
      const xs = i === 0 ? I : Hp;
      k.layer_step(this.kind, l.kx, H, xPtr, xs, l.h, l.c, l.w, l.bias, this.gates, B, this.rt);
    }
    for (let i = 0; i < layers.length; i++) {
      copyOut(f32, state.h[i], r0 * H, layers[i].h >> 2, B, H, Hp);
      if (state.c) copyOut(f32, state.c[i], r0 * H, layers[i].c >> 2, B, H, Hp);
    }
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

/** Options of {@link createWasmStepper}. */
export interface WasmStepperOptions {
  /**
   * Threads that step one large batch (this one plus `threads - 1` process-wide worker threads, each
   * with its own kernel instance; results are bit-identical to one thread). Batches under 2M
   * multiply-adds (LSTM I=40: H=32 under 218 rows, H=128 under 23 rows) always run on the caller's
   * thread. Default: the `SEQSTREAM_THREADS` environment variable (read when the stepper is created),
   * else 2 on machines with 2+ cores, else 1.
   */
  readonly threads?: number;
}

const contexts = new WeakMap<RecurrentModel, KernelContext>();

/**
 * A {@link FusedStepper} running the WebAssembly SIMD128 kernel (`kind: 'wasm-simd'`), or `null`
 * when the runtime cannot run it. Accumulates in float32 (the JavaScript loops use float64); results
 * stay within `1e-5 + 1e-4 * |ref|` of PyTorch's float64 references. Weights are packed into the
 * kernel's memory once per `model.version`; memory grows to the largest batch stepped.
 *
 * @example
 * ```ts
 * const stepper = createWasmStepper(model) ?? createFusedStepper(model);
 * stepper.stepInPlace(state, x);
 * ```
 */
export function createWasmStepper(model: RecurrentModel, options: WasmStepperOptions = {}): FusedStepper | null {
  const threads = options.threads ?? stepThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidOptionError('threads', 'an integer >= 1', threads);
  const module = gatesKernelModule();
  if (!module) return null;
  let ctx = contexts.get(model);
  if (!ctx) {
    ctx = new KernelContext(model, module);
    contexts.set(model, ctx);
  }
  const context = ctx;
  return {
    kind: 'wasm-simd',
    stepInPlace: (state, x) => context.step(state, x, threads),
    headInPlace: (state, y) => model.headInPlace(state, y),
  };
}
