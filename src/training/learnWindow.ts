import { clipGradNorm } from './clipGradNorm.js';
import type { RecurrentModel } from '../cells/model.js';
import type { Optimizer } from './optimizers/optimizer.js';
import type { TbpttEngine, TbpttWindow } from './tbpttEngine.js';

/** What {@link learnWindow} did with one window. */
export interface WindowOutcome {
  /**
   * `'updated'`: the optimizer stepped. `'computed'`: gradients only (no optimizer).
   * `'no_target'`: no target in the loss range, nothing to learn. `'non_finite'`: the loss or the
   * gradient norm was NaN/Infinity; the weights were left alone (the caller resets the state).
   */
  status: 'updated' | 'computed' | 'no_target' | 'non_finite';
  window: TbpttWindow;
  /** Global L2 norm of the gradients before clipping (NaN when not computed). */
  gradNorm: number;
  /** Whether clipping scaled the gradients. */
  clipped: boolean;
}

/** Options of {@link learnWindow}. */
export interface LearnWindowOptions {
  /** Optimizer to step; `null` computes gradients only. */
  optimizer: Optimizer | null;
  /** Max global gradient norm (`clip_grad_norm_`), or `null` for none. */
  clipGradNorm: number | null;
  /** Called with the raw gradients, before clipping (for checks and telemetry). */
  afterBackward?: (window: TbpttWindow, grads: readonly Float64Array[]) => void;
  /** Called after clipping, before the optimizer. */
  afterClip?: (grads: readonly Float64Array[], norm: number, clipped: boolean) => void;
}

/**
 * One truncated-BPTT update, PyTorch's order: gradients of the due window (`engine.backward`),
 * a finiteness check, `clip_grad_norm_`, then the optimizer step inside
 * `model.updateParameters`, so every operator sharing the model switches to the new weights as
 * one version, between two steps and never during one.
 *
 * @example
 * ```ts
 * if (engine.windowDue()) {
 *   const out = learnWindow(model, engine, grads, { optimizer: adam(), clipGradNorm: 1 });
 *   if (out.status === 'non_finite') engine.reset();
 * }
 * ```
 */
export function learnWindow(model: RecurrentModel, engine: TbpttEngine, grads: readonly Float64Array[], options: LearnWindowOptions): WindowOutcome {
  const window = engine.backward(grads);
  if (window.rows === 0) return { status: 'no_target', window, gradNorm: NaN, clipped: false };
  options.afterBackward?.(window, grads);
  if (!Number.isFinite(window.loss)) return { status: 'non_finite', window, gradNorm: NaN, clipped: false };
  const clip = clipGradNorm(grads, options.clipGradNorm);
  if (!Number.isFinite(clip.norm)) return { status: 'non_finite', window, gradNorm: clip.norm, clipped: false };
  options.afterClip?.(grads, clip.norm, clip.clipped);
  const optimizer = options.optimizer;
  if (!optimizer) return { status: 'computed', window, gradNorm: clip.norm, clipped: clip.clipped };
  model.updateParameters(() => optimizer.step(model.parameters(), grads));
  return { status: 'updated', window, gradNorm: clip.norm, clipped: clip.clipped };
}
