import { InvalidOptionError } from './errors.js';

/**
 * One way to check an option, shared by every room (as `errors.ts` is). Each reader takes the
 * option's name (as the user wrote it, e.g. `'adam.lr'`), its value and a default: `undefined`
 * gives the default, and with no default (`undefined`) the option is required. Anything else that
 * is not what the option takes throws {@link InvalidOptionError} (`SEQ_INVALID_OPTION`) naming the
 * option, what it takes and what came, synchronously, when the operator or adapter is created.
 *
 * @example
 * ```ts
 * const maxKeys = integerOption('maxKeys', options.maxKeys, 10_000, 1);
 * const lr = numberOption('adam.lr', options.lr, 1e-3, { min: 0 });
 * const emit = oneOfOption('emit', options.emit, ['hidden', 'output'] as const, 'output');
 * ```
 */
export function integerOption(name: string, value: unknown, fallback: number | undefined, min = 1, max = Infinity): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const what = max !== Infinity ? `an integer in [${min}, ${max}]` : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new InvalidOptionError(name, what, value);
  }
  return value;
}

/** Bounds of a {@link numberOption}: `min`/`max` inclusive, `above`/`below` exclusive. */
export interface NumberBounds {
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
  readonly below?: number;
  /** Whether `Infinity` is accepted (e.g. "never"). Default false: the number must be finite. */
  readonly allowInfinity?: boolean;
}

/**
 * A numeric option: a finite number (or `Infinity` with `allowInfinity`) within `bounds`.
 *
 * @example
 * ```ts
 * numberOption('adam.beta1', undefined, 0.9, { min: 0, below: 1 }); // 0.9
 * numberOption('idleTtlMs', Infinity, 60_000, { min: 0, allowInfinity: true }); // Infinity
 * ```
 */
export function numberOption(name: string, value: unknown, fallback: number | undefined, bounds: NumberBounds = {}): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const { min, max, above, below, allowInfinity = false } = bounds;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (allowInfinity && value === Infinity)) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max) &&
    (above === undefined || value > above) &&
    (below === undefined || value < below);
  if (!ok) {
    const limits = [min !== undefined && `>= ${min}`, above !== undefined && `> ${above}`, max !== undefined && `<= ${max}`, below !== undefined && `< ${below}`].filter(Boolean);
    throw new InvalidOptionError(name, `a finite number${limits.length ? ` ${limits.join(' and ')}` : ''}${allowInfinity ? ' or Infinity' : ''}`, value);
  }
  return value as number;
}

/** The values of every `invalidInput` option: stop at a bad input, or drop it and report it to `onError`. */
export const INVALID_INPUT = ['error', 'skip'] as const;

/**
 * An option that takes one of a few strings.
 *
 * @example
 * ```ts
 * oneOfOption('invalidInput', options.invalidInput, ['error', 'skip'] as const, 'error');
 * ```
 */
export function oneOfOption<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T | undefined): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!allowed.includes(value as T)) throw new InvalidOptionError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

/**
 * An optional callback: `undefined` or a function.
 *
 * @example
 * ```ts
 * const onError = functionOption<(e: Error) => void>('onError', options.onError);
 * ```
 */
export function functionOption<F extends (...args: never[]) => unknown>(name: string, value: unknown): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value);
  return value as F | undefined;
}

/**
 * A true/false option.
 *
 * @example
 * ```ts
 * const centered = booleanOption('rmsprop.centered', options.centered, false);
 * ```
 */
export function booleanOption(name: string, value: unknown, fallback: boolean | undefined): boolean {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value);
  return value;
}
