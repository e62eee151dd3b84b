import { describe, expect, it } from 'vitest';
import { functionOption, integerOption, numberOption, oneOfOption } from '../src/options.js';

const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
};

describe('option readers', () => {
  it('integerOption: default when undefined, required without one, bounds inclusive', () => {
    expect(integerOption('n', undefined, 7)).toBe(7);
    expect(integerOption('n', 3, 7)).toBe(3);
    expect(code(() => integerOption('n', undefined, undefined))).toBe("SEQ_INVALID_OPTION: Option 'n' must be a positive integer, received undefined");
    expect(code(() => integerOption('n', 0, 7))).toMatch(/positive integer, received 0/);
    expect(code(() => integerOption('n', 1.5, 7, 0))).toMatch(/an integer >= 0, received 1.5/);
    expect(code(() => integerOption('port', 70000, 0, 0, 65535))).toMatch(/an integer in \[0, 65535\], received 70000/);
    expect(integerOption('port', 65535, 0, 0, 65535)).toBe(65535);
    expect(code(() => integerOption('n', '3', 7))).toMatch(/received "3"/);
  });

  it('numberOption: finite unless Infinity is allowed, inclusive and exclusive bounds', () => {
    expect(numberOption('lr', undefined, 1e-3, { min: 0 })).toBe(1e-3);
    expect(numberOption('beta', 0, 0.9, { min: 0, below: 1 })).toBe(0);
    expect(code(() => numberOption('beta', 1, 0.9, { min: 0, below: 1 }))).toMatch(/a finite number >= 0 and < 1, received 1/);
    expect(code(() => numberOption('rate', 0, 1, { above: 0 }))).toMatch(/a finite number > 0, received 0/);
    expect(code(() => numberOption('x', NaN, 1))).toMatch(/a finite number, received NaN/);
    expect(code(() => numberOption('ttl', Infinity, 1, { min: 0 }))).toMatch(/SEQ_INVALID_OPTION/);
    expect(numberOption('ttl', Infinity, 1, { min: 0, allowInfinity: true })).toBe(Infinity);
    expect(code(() => numberOption('ttl', -Infinity, 1, { min: 0, allowInfinity: true }))).toMatch(/>= 0 or Infinity/);
    expect(code(() => numberOption('x', 5, 1, { max: 4 }))).toMatch(/<= 4/);
  });

  it('oneOfOption and functionOption', () => {
    expect(oneOfOption('emit', undefined, ['a', 'b'] as const, 'a')).toBe('a');
    expect(oneOfOption('emit', 'b', ['a', 'b'] as const, 'a')).toBe('b');
    expect(code(() => oneOfOption('emit', 'c', ['a', 'b'] as const, 'a'))).toMatch(/one of 'a', 'b', received "c"/);
    const f = () => 1;
    expect(functionOption('cb', f)).toBe(f);
    expect(functionOption('cb', undefined)).toBeUndefined();
    expect(code(() => functionOption('cb', 3))).toMatch(/a function, received 3/);
  });
});
