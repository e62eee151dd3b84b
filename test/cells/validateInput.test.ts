import { describe, expect, it } from 'vitest';
import { validateInput } from '../../src/cells/index.js';
import { InvalidInputError } from '../../src/errors.js';

function errorOf(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (e) {
    return e as InvalidInputError;
  }
  throw new Error('did not throw');
}

describe('validateInput', () => {
  it('accepts arrays and typed arrays of the right length without copying', () => {
    const a = [1, 2, 3];
    expect(validateInput(a, 3)).toBe(a);
    const f = new Float32Array(3);
    expect(validateInput(f, 3)).toBe(f);
  });

  it('names expected and received shape on a wrong length', () => {
    const e = errorOf(() => validateInput([1, 2], 3));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.code).toBe('SEQ_INPUT_SHAPE');
    expect(e.message).toContain('[3]');
    expect(e.message).toContain('[2]');
    expect(e.details).toMatchObject({ expected: [3], received: [2] });
  });

  it('rejects NaN and Infinity with SEQ_INPUT_NON_FINITE', () => {
    expect(errorOf(() => validateInput([1, NaN], 2)).code).toBe('SEQ_INPUT_NON_FINITE');
    expect(errorOf(() => validateInput(new Float64Array([Infinity]), 1)).code).toBe('SEQ_INPUT_NON_FINITE');
  });

  it('rejects non-vectors and non-numbers with SEQ_INPUT_TYPE', () => {
    for (const bad of ['abc', 3, null, undefined, { x: 1 }, new DataView(new ArrayBuffer(4))]) {
      expect(errorOf(() => validateInput(bad, 1)).code).toBe('SEQ_INPUT_TYPE');
    }
    expect(errorOf(() => validateInput(['1', 2], 2)).code).toBe('SEQ_INPUT_TYPE');
  });
});
