import type { RecurrentModel } from './model.js';
import type { ModelState } from './types.js';

/**
 * A fast step engine bound to one model: advances a batch of state rows and computes head
 * outputs, with no allocation per step. Operators that step many times (recurrent, keyed,
 * training) get one from {@link createFusedStepper} and reuse it; it follows the model's live
 * weights (see `RecurrentModel.version`).
 */
export interface FusedStepper {
  /** Which implementation runs: `'js'` (float loops) or a faster kernel's name. */
  readonly kind: string;
  /** Steps every layer for all `state.batch` rows in place; `x` holds `batch * inputSize` values. Returns the top `h`. */
  stepInPlace(state: ModelState, x: ArrayLike<number>): Float32Array;
  /** Head output of every row into `y` (`batch * outputSize`). */
  headInPlace(state: ModelState, y: Float32Array): Float32Array;
}

/**
 * The fastest fused step engine available for `model` (today: float loops in JavaScript).
 *
 * @example
 * ```ts
 * const stepper = createFusedStepper(model);
 * const state = model.createState(64);
 * stepper.stepInPlace(state, inputs64xI);
 * ```
 */
export function createFusedStepper(model: RecurrentModel): FusedStepper {
  return {
    kind: 'js',
    stepInPlace: (state, x) => model.stepInPlace(state, x),
    headInPlace: (state, y) => model.headInPlace(state, y),
  };
}
