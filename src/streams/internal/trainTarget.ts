import { describe, InvalidInputError } from '../../errors.js';
import type { LossKind } from '../../training/losses.js';

/**
 * Checks a training target and writes it into `out` (`O` values): a vector of `O` finite
 * numbers, or, for cross-entropy, a class index in `[0, O)` (one-hot). Binary cross-entropy
 * targets must lie in [0, 1]. Throws {@link InvalidInputError} with `SEQ_TARGET_TYPE`,
 * `SEQ_TARGET_SHAPE`, `SEQ_TARGET_NON_FINITE` or `SEQ_TARGET_RANGE`.
 *
 * @example
 * ```ts
 * const out = new Float64Array(3);
 * readTarget(2, 'cross_entropy', out); // out = [0, 0, 1]
 * ```
 */
export function readTarget(value: unknown, loss: LossKind, out: Float64Array): void {
  const O = out.length;
  if (typeof value === 'number' && loss === 'cross_entropy') {
    if (!Number.isInteger(value) || value < 0 || value >= O) {
      throw new InvalidInputError('SEQ_TARGET_RANGE', `Target class index must be an integer in [0, ${O}), received ${describe(value)}`, { expected: [0, O], received: value });
    }
    out.fill(0);
    out[value] = 1;
    return;
  }
  const isVector = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
  if (!isVector) {
    throw new InvalidInputError('SEQ_TARGET_TYPE', `Target must be a numeric vector of shape [${O}]${loss === 'cross_entropy' ? ' or a class index' : ''}, received ${describe(value)}`, { expected: [O], received: describe(value) });
  }
  const v = value as ArrayLike<unknown>;
  if (v.length !== O) throw new InvalidInputError('SEQ_TARGET_SHAPE', `Target must have shape [${O}], received [${v.length}]`, { expected: [O], received: [v.length] });
  for (let i = 0; i < O; i++) {
    const n = v[i];
    if (typeof n !== 'number') throw new InvalidInputError('SEQ_TARGET_TYPE', `Target holds a non-number at index ${i}: ${describe(n)}`, { index: i });
    if (!Number.isFinite(n)) throw new InvalidInputError('SEQ_TARGET_NON_FINITE', `Target holds ${n} at index ${i}`, { index: i, value: String(n) });
    if (loss === 'binary_cross_entropy' && (n < 0 || n > 1)) throw new InvalidInputError('SEQ_TARGET_RANGE', `Binary cross-entropy targets must lie in [0, 1], received ${n} at index ${i}`, { index: i, value: n });
    out[i] = n;
  }
}
