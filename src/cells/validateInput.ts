import { describe, InvalidInputError } from '../errors.js';

/**
 * Checks that `value` is a numeric vector of `expectedLength` finite numbers and returns it as
 * an array-like (no copy for arrays and typed arrays). Throws {@link InvalidInputError} with code
 * `SEQ_INPUT_TYPE` (not a numeric vector), `SEQ_INPUT_SHAPE` (wrong length) or
 * `SEQ_INPUT_NON_FINITE` (NaN or Infinity), naming expected and received shape.
 *
 * @example
 * ```ts
 * validateInput([1, 2, 3], 3); // ok
 * validateInput([1, 2], 3);    // throws, code 'SEQ_INPUT_SHAPE': "expected shape [3], received [2]"
 * ```
 */
export function validateInput(value: unknown, expectedLength: number, argName = 'x'): ArrayLike<number> {
  const isVector = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
  if (!isVector) {
    throw new InvalidInputError('SEQ_INPUT_TYPE', `Input '${argName}' must be a numeric vector of shape [${expectedLength}], received ${describe(value)}`, {
      expected: [expectedLength],
      received: describe(value),
    });
  }
  const v = value as ArrayLike<unknown>;
  if (v.length !== expectedLength) {
    throw new InvalidInputError('SEQ_INPUT_SHAPE', `Input '${argName}' must have shape [${expectedLength}], received [${v.length}]`, {
      expected: [expectedLength],
      received: [v.length],
    });
  }
  for (let i = 0; i < expectedLength; i++) {
    const n = v[i];
    if (typeof n !== 'number') {
      throw new InvalidInputError('SEQ_INPUT_TYPE', `Input '${argName}' of shape [${expectedLength}] holds a non-number at index ${i}: ${describe(n)}`, {
        expected: [expectedLength],
        index: i,
      });
    }
    if (!Number.isFinite(n)) {
      throw new InvalidInputError('SEQ_INPUT_NON_FINITE', `Input '${argName}' of shape [${expectedLength}] holds ${n} at index ${i}`, {
        expected: [expectedLength],
        index: i,
        value: String(n),
      });
    }
  }
  return v as ArrayLike<number>;
}
