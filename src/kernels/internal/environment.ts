import { InvalidOptionError } from '../../errors.js';

/**
 * An environment variable, read through `globalThis.process` so the kernels still load where there
 * is none (browsers, bundles); `undefined` there or when unset.
 *
 * @example
 * ```ts
 * environmentVariable('SEQSTREAM_THREADS'); // '1', or undefined
 * ```
 */
export function environmentVariable(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

/**
 * A named setting: `requested` if given, else the environment variable `variable` when set and
 * not empty, else `fallback`. A value outside `allowed` is `SEQ_INVALID_OPTION`, naming `option`
 * or `variable`, whichever it came from.
 *
 * @example
 * ```ts
 * namedSetting(options.engine, 'engine', 'SEQSTREAM_ENGINE', ['auto', 'wasm'], 'auto');
 * ```
 */
export function namedSetting<T extends string>(requested: T | undefined, option: string, variable: string, allowed: readonly T[], fallback: T): T {
  const raw = requested ?? (environmentVariable(variable) || fallback);
  if (!allowed.includes(raw as T)) throw new InvalidOptionError(requested === undefined ? variable : option, `one of ${allowed.join(', ')}`, raw);
  return raw as T;
}
