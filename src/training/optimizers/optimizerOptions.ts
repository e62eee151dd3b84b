import { InvalidOptionError } from '../../errors.js';

/**
 * Reads one numeric optimizer option: `undefined` gives `fallback`; otherwise it must be a finite
 * number `>= min` (and `< maxExclusive` when given), else {@link InvalidOptionError}.
 *
 * @example
 * ```ts
 * numberOption('adam.lr', undefined, 1e-3, 0); // 0.001
 * ```
 */
export function numberOption(name: string, value: unknown, fallback: number, min: number, maxExclusive?: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (maxExclusive !== undefined && value >= maxExclusive)) {
    throw new InvalidOptionError(name, `a finite number >= ${min}${maxExclusive !== undefined ? ` and < ${maxExclusive}` : ''}`, value);
  }
  return value;
}
