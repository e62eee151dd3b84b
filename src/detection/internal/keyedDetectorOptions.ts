import { InvalidOptionError } from '../../errors.js';
import type { DetectAnomaliesOptions } from '../keyedDetectorTypes.js';
import { resolveDetectorOptions, type ResolvedDetectorOptions } from '../detectorOptions.js';

/** The keyed machinery's options of `detectAnomalies` (and its parallel form), checked, with defaults. */
export interface KeyedDetectorSettings<K> {
  /** The detector parameters of a key with no `rangeOf`/`learningPeriodOf` override. */
  base: ResolvedDetectorOptions;
  /** The detector parameters of one key (`base` unless an override applies). */
  optionsFor(key: K): ResolvedDetectorOptions;
  threshold: number;
  index: number;
  maxKeys: number;
  idleTtlMs: number;
  invalidInput: 'skip' | 'error';
  everyEvents: number;
  clock: () => number;
}

/**
 * Checks the options of a keyed detector operator and fills in the defaults; throws
 * `InvalidOptionError` (`SEQ_INVALID_OPTION`) naming the option.
 *
 * @example
 * ```ts
 * const s = keyedDetectorSettings<string>({ threshold: 0.8 });
 * s.maxKeys; // 100000
 * ```
 */
export function keyedDetectorSettings<K>(options: DetectAnomaliesOptions<K>): KeyedDetectorSettings<K> {
  const base = resolveDetectorOptions(options);
  const threshold = options.threshold ?? 0.6;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw new InvalidOptionError('threshold', 'a finite number', threshold);
  const index = options.index ?? 0;
  if (!Number.isInteger(index) || index < 0) throw new InvalidOptionError('index', 'an integer >= 0', index);
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new InvalidOptionError('maxKeys', 'a positive integer', maxKeys);
  const idleTtlMs = options.idleTtlMs ?? Infinity;
  if (typeof idleTtlMs !== 'number' || !(idleTtlMs > 0)) throw new InvalidOptionError('idleTtlMs', 'a number > 0 (Infinity = never)', idleTtlMs);
  const invalidInput = options.invalidInput ?? 'skip';
  if (invalidInput !== 'skip' && invalidInput !== 'error') throw new InvalidOptionError('invalidInput', "'skip' | 'error'", invalidInput);
  const everyEvents = options.checkpoint?.everyEvents ?? 0;
  if (!Number.isInteger(everyEvents) || everyEvents < 0) throw new InvalidOptionError('checkpoint.everyEvents', 'an integer >= 0', everyEvents);
  const optionsFor = (key: K): ResolvedDetectorOptions => {
    const range = options.rangeOf?.(key);
    const learningPeriod = options.learningPeriodOf?.(key);
    if (range === undefined && learningPeriod === undefined) return base;
    return resolveDetectorOptions({ ...options, range: range ?? options.range, learningPeriod: learningPeriod ?? base.learningPeriod });
  };
  return { base, optionsFor, threshold, index, maxKeys, idleTtlMs, invalidInput, everyEvents, clock: options.clock ?? Date.now };
}
