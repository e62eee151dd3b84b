import type { ModelState } from '../cells/types.js';

/**
 * A fast step engine bound to one model: advances a batch of state rows and computes head
 * outputs, with no allocation per step. Operators that step many times (recurrent, keyed,
 * training) get one from `createFusedStepper` and reuse it; it follows the model's live
 * weights (see `RecurrentModel.version`).
 *
 * @example
 * ```ts
 * const stepper: FusedStepper = createFusedStepper(model);
 * const top = stepper.stepInPlace(state, x); // state.h[numLayers - 1]
 * ```
 */
export interface FusedStepper {
  /** Which implementation runs: `'js'` (float loops) or a faster kernel's name. */
  readonly kind: string;
  /** Steps every layer for all `state.batch` rows in place; `x` holds `batch * inputSize` values. Returns the top `h`. */
  stepInPlace(state: ModelState, x: ArrayLike<number>): Float32Array;
  /** Head output of every row into `y` (`batch * outputSize`). */
  headInPlace(state: ModelState, y: Float32Array): Float32Array;
}
