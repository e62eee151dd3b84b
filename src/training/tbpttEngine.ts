import type { LossKind } from './losses.js';

/** The window a {@link TbpttEngine} just backpropagated through, in global step numbers. */
export interface TbpttWindow {
  /** First step of the window (inclusive). */
  start: number;
  /** Steps in the window: `min(k2, steps since the last reset)`. */
  length: number;
  /** First step whose target counts in the loss. */
  lossStart: number;
  /** Steps the loss covers: `min(k1, steps since the last reset)`. */
  lossLength: number;
  /** Mean loss (NaN when no step in the loss range had a target). */
  loss: number;
  /** Target rows that counted (0: no gradient, skip the update). */
  rows: number;
}

/** Options shared by the TBPTT engines. */
export interface TbpttEngineOptions {
  /** Update every k1 steps. */
  k1: number;
  /** Backpropagate through the last k2 steps (k2 >= k1). */
  k2: number;
  /** Loss, see `LossKind`. */
  loss: LossKind;
  /** Independent rows stepped together (1 for one stream; the fixtures use 2). Default 1. */
  batch?: number;
  /**
   * Fused engine only: `'auto'` runs the WebAssembly SIMD training kernel where it loads (else
   * the JavaScript loops), `'js'` forces the loops. Both accumulate in float64. Default `'auto'`.
   */
  kernel?: 'auto' | 'js';
  /**
   * Fused engine with the JavaScript loops only (`kernel: 'js'`): for thousands of small engines
   * (one per key). The window's work buffers (the backward scratch and the re-run tape, written
   * in full before every read) are shared by every engine of the same shape in this thread, and
   * the engine's own buffers (activation ring, packed weights) are views into one slab. Same
   * arithmetic, same results; ignored with the WebAssembly kernel. Default false.
   */
  compact?: boolean;
}

/**
 * The forward/backward half of truncated BPTT (Williams & Peng's k1, k2) for one model: steps
 * online while keeping the last k2 steps, and on request computes the gradients of the window
 * ending at the latest step. Clipping and the optimizer step are the caller's (see `learnWindow`).
 * Two implementations: `createFusedTbpttEngine` (hand-derived gradients, float64) and
 * `createTensorTbpttEngine` (tfjs autograd).
 */
export interface TbpttEngine {
  readonly kind: 'fused' | 'tfjs';
  /** Which linear-algebra kernel runs: `'wasm-simd'` or `'js'` (fused engine), `'tfjs'`. */
  readonly kernel: string;
  readonly batch: number;
  readonly k1: number;
  readonly k2: number;
  /** Steps taken since creation (drives the every-k1 schedule). */
  readonly steps: number;
  /** Steps taken since creation or the last reset (bounds the window). */
  readonly stepsSinceReset: number;
  /**
   * One online step with the model's current weights for all rows: `x` is `batch*inputSize`,
   * `target` `batch*outputSize` or null. Writes the prediction (head output, or top `h` without
   * a head) into `y` (`batch*outputSize`).
   */
  step(x: ArrayLike<number>, target: ArrayLike<number> | null, y: Float32Array): void;
  /** Sets the target of the most recent step (self-supervised mode learns `x[t+1]` for step t). */
  labelLast(target: ArrayLike<number>): void;
  /** True right after every k1-th step (global count). */
  windowDue(): boolean;
  /** Gradients of the window ending at the latest step into `grads` (order of `model.parameters()`). */
  backward(grads: readonly Float64Array[]): TbpttWindow;
  /** Sets the online state (`h[l]`, `c[l]` of `batch*H` each; zeros when omitted) and forgets the history. */
  reset(h?: readonly ArrayLike<number>[] | null, c?: readonly ArrayLike<number>[] | null): void;
  /** Copy of the online state, per layer `batch*H` (float64: the fused engine keeps it at that precision). */
  state(): { h: Float64Array[]; c: Float64Array[] | null };
  /** Frees tensors (tfjs engine); the engine is unusable afterwards. */
  dispose(): void;
}
