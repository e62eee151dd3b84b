import { describe, InvalidInputError } from '../../errors.js';
import type { SensorReading } from '../keyedDetectorTypes.js';

/** A reading that passed {@link checkReading}: its key, the scored value and its timestamp. */
export interface CheckedReading<K> {
  key: K;
  x: number;
  timestamp: number | undefined;
}

/**
 * Checks one reading of a keyed detector: an object with a key (`SEQ_DETECT_MISSING_KEY`), a
 * finite value at `x` or `x[index]` (`SEQ_DETECT_BAD_VALUE`) and a finite timestamp or none
 * (`SEQ_DETECT_BAD_TIMESTAMP`). Returns the reading's parts (in `into` when given, so a hot path
 * allocates nothing), or the error to report (not thrown).
 *
 * @example
 * ```ts
 * const r = checkReading<string>({ key: 'pump', x: [3, 4], timestamp: 0 }, 1, 0);
 * if (!(r instanceof InvalidInputError)) r.x; // 4
 * ```
 */
export function checkReading<K>(event: unknown, index: number, position: number, into?: CheckedReading<K>): CheckedReading<K> | InvalidInputError {
  const e = event as Partial<SensorReading<K>> | null;
  if (typeof e !== 'object' || e === null || e.key === undefined || e.key === null) {
    return new InvalidInputError('SEQ_DETECT_MISSING_KEY', `Reading must be { key, x, timestamp? }, received ${describe(event)}`, { position });
  }
  const key = e.key as K;
  const raw = typeof e.x === 'number' ? e.x : e.x !== undefined && e.x !== null && typeof e.x === 'object' ? (e.x as ArrayLike<number>)[index] : undefined;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    return new InvalidInputError(
      'SEQ_DETECT_BAD_VALUE',
      `Reading of key ${describe(key)} has no finite value${typeof e.x === 'object' ? ` at x[${index}]` : ''}, received ${describe(raw)}; skipped, the key goes on`,
      { key, position, received: describe(raw) },
    );
  }
  const ts = e.timestamp;
  if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts))) {
    return new InvalidInputError('SEQ_DETECT_BAD_TIMESTAMP', `Reading of key ${describe(key)} has timestamp ${describe(ts)}, expected a finite number (ms) or none`, { key, position });
  }
  if (!into) return { key, x: raw, timestamp: ts };
  into.key = key;
  into.x = raw;
  into.timestamp = ts;
  return into;
}
