import { Observable, type OperatorFunction } from 'rxjs';
import { describe, InvalidInputError, InvalidOptionError, ModelFormatError, SeqstreamError, type ErrorCallback } from '../errors.js';
import { subscribeLinked } from './internal/subscribeLinked.js';
import { integerOption, oneOfOption, INVALID_INPUT } from '../options.js';
import { handleInvalidInput } from './internal/handleInvalidInput.js';

/** An input of {@link standardize}: a bare vector, or an event with a `key` and a vector `x`. */
export type StandardizeInput = ArrayLike<number> | { key?: string; x: ArrayLike<number> };

/** Output of {@link standardize} for input `T`: the same event with `x` scaled, or a `Float32Array` for bare vectors. */
export type Standardized<T> = T extends { x: ArrayLike<number> } ? Omit<T, 'x'> & { x: Float32Array } : Float32Array;

/** Running statistics of one key, JSON-safe. `m2[i]` is the sum of squared deviations of feature i. */
export interface StandardizeKeyState {
  key: string;
  count: number;
  mean: number[];
  m2: number[];
}

/** Every key's running statistics, see {@link StandardizeControl.snapshot}. */
export interface StandardizeSnapshot {
  format: 'seqstream-standardize';
  version: 1;
  keys: StandardizeKeyState[];
}

/** Options of {@link standardize}. */
export interface StandardizeOptions {
  /** Per key, the first `warmup` readings only feed the statistics and are not emitted. Default 0. */
  warmup?: number;
  /** Added to the variance before the square root, so a constant feature gives 0, not NaN. Default 1e-8. */
  epsilon?: number;
  /** Standardized values are clipped to `[-clip, clip]`, so one wild reading cannot saturate a network. `Infinity` turns it off. Default 10. */
  clip?: number;
  /** Start with statistics frozen (not updated; useful with `initialState`). Default false. */
  freeze?: boolean;
  /** Per key, stop updating after this many readings (fit on a prefix, then hold). Default `Infinity`. */
  freezeAfter?: number;
  /** Statistics to start from (each subscription gets its own copy). Default: empty. */
  initialState?: StandardizeSnapshot;
  /** Handle to freeze/unfreeze and snapshot the live subscription. Default none. */
  control?: StandardizeControl;
  /** Most keys held; an event with a new key beyond it is bad input (`SEQ_STANDARDIZE_TOO_MANY_KEYS`). Default 10000. */
  maxKeys?: number;
  /**
   * Bad input (not a vector, NaN/Infinity, a length other than the key's first): `'error'` ends
   * the stream with it (`SEQ_INPUT_TYPE` / `SEQ_INPUT_NON_FINITE` / `SEQ_INPUT_SHAPE`), `'skip'`
   * drops it without touching the statistics. Default `'error'`.
   */
  invalidInput?: 'error' | 'skip';
  /** Called with each skipped input and its error. A throw ends the stream. Default none. */
  onError?: ErrorCallback;
}

interface KeyStats {
  count: number;
  mean: Float64Array;
  m2: Float64Array;
}

interface Binding {
  snapshot(): StandardizeSnapshot;
  restore(snapshot: StandardizeSnapshot): void;
}

/**
 * Freezes, unfreezes and snapshots the statistics of the live subscription of a
 * {@link standardize} operator it was passed to. One live subscription per control.
 *
 * @example
 * ```ts
 * const control = new StandardizeControl();
 * readings$.pipe(standardize({ control })).subscribe(feedModel);
 * // later: hold the scale fixed and persist it
 * control.freeze();
 * writeFileSync('scale.json', JSON.stringify(control.snapshot()));
 * ```
 */
export class StandardizeControl {
  private isFrozen: boolean | undefined;
  /** @internal */
  binding: Binding | null = null;

  /** Stop updating statistics (values are still scaled with the current ones). */
  freeze(): void {
    this.isFrozen = true;
  }

  /** Resume updating statistics. */
  unfreeze(): void {
    this.isFrozen = false;
  }

  /** `true`/`false` once `freeze()`/`unfreeze()` was called, else `undefined` (the option decides). */
  get frozen(): boolean | undefined {
    return this.isFrozen;
  }

  /** JSON-safe copy of every key's statistics. Throws `SEQ_CONTROL_DETACHED` when no subscription is live. */
  snapshot(): StandardizeSnapshot {
    return this.bound().snapshot();
  }

  /** Replaces the live subscription's statistics. Throws `SEQ_STATE_FORMAT` for a malformed snapshot. */
  restore(snapshot: StandardizeSnapshot): void {
    this.bound().restore(snapshot);
  }

  private bound(): Binding {
    if (!this.binding) throw new SeqstreamError('SEQ_CONTROL_DETACHED', 'StandardizeControl is not attached to a live standardize() subscription');
    return this.binding;
  }
}

/**
 * Online standardization per key and per feature: `z = (x - mean) / sqrt(var + epsilon)`, with
 * mean and (population) variance kept by Welford's algorithm, so raw sensor readings reach a
 * network on a sane scale without a pass over the data.
 *
 * Per event:
 * 1. Take the vector (`event.x`, or the input itself) and the key (`event.key`, else `''`).
 * 2. Check it: a numeric vector of finite numbers, of the same length as this key's first one;
 *    bad input follows `invalidInput` and never touches the statistics.
 * 3. Unless frozen (`freeze`, `control.freeze()`, or `freezeAfter` readings reached), update the
 *    key's count, mean and sum of squared deviations (Welford: `d = x - mean; mean += d / n;
 *    m2 += d * (x - mean)`). The update comes first, so a reading is scaled with statistics that
 *    include it (the first reading of a key is 0).
 * 4. A reading that updated the statistics while the key's count is at most `warmup` is not emitted.
 * 5. Emit `clip((x - mean) / sqrt(m2 / n + epsilon))` as a `Float32Array` (in place of `x` for events).
 *
 * Each subscription has its own statistics (from `initialState` when given), freed on teardown.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { standardize } from 'seqstream/streams';
 * from([{ key: 'a', x: [20, 1000] }, { key: 'a', x: [22, 1010] }, { key: 'b', x: [5, 5] }])
 *   .pipe(standardize({ clip: 5 }))
 *   .subscribe((e) => console.log(e.key, e.x)); // a [0,0] · a [1,1] · b [0,0]
 * ```
 */
export function standardize<T extends StandardizeInput>(options: StandardizeOptions = {}): OperatorFunction<T, Standardized<T>> {
  const warmup = integerOption('warmup', options.warmup, 0, 0);
  const epsilon = options.epsilon ?? 1e-8;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) throw new InvalidOptionError('epsilon', 'a finite number >= 0', epsilon);
  const clip = options.clip ?? 10;
  if (typeof clip !== 'number' || Number.isNaN(clip) || clip <= 0) throw new InvalidOptionError('clip', 'a number > 0 (Infinity: no clipping)', clip);
  const freezeAfter = options.freezeAfter ?? Infinity;
  if (typeof freezeAfter !== 'number' || Number.isNaN(freezeAfter) || freezeAfter < 0 || (Number.isFinite(freezeAfter) && !Number.isInteger(freezeAfter))) {
    throw new InvalidOptionError('freezeAfter', 'an integer >= 0 or Infinity', freezeAfter);
  }
  const maxKeys = options.maxKeys ?? 10_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new InvalidOptionError('maxKeys', 'a positive integer', maxKeys);
  const invalidInput = oneOfOption('invalidInput', options.invalidInput, INVALID_INPUT, 'error');
  const control = options.control;
  if (control !== undefined && !(control instanceof StandardizeControl)) throw new InvalidOptionError('control', 'a StandardizeControl', control);
  // Validate the initial state now, so a bad one fails at creation like any other option.
  const initial = options.initialState === undefined ? undefined : readSnapshot(options.initialState);

  return (source) =>
    new Observable<Standardized<T>>((subscriber) => {
      let stats = initial ? cloneStats(initial) : new Map<string, KeyStats>();
      if (control) {
        if (control.binding) {
          subscriber.error(new SeqstreamError('SEQ_CONTROL_IN_USE', 'This StandardizeControl is already attached to a live standardize() subscription'));
          return;
        }
        control.binding = {
          snapshot: () => toSnapshot(stats),
          restore: (snap) => {
            stats = cloneStats(readSnapshot(snap));
          },
        };
      }
      const binding = control?.binding;
      // Registered first: a synchronous source may close this subscriber before subscribe returns.
      subscriber.add(() => {
        if (control && control.binding === binding) control.binding = null;
        stats = new Map();
      });

      const bad = (error: SeqstreamError, input: unknown): void => handleInvalidInput(invalidInput, options.onError, error, input, (e) => subscriber.error(e));

      subscribeLinked(source, subscriber, {
        next: (input) => {
          const isEvent = typeof input === 'object' && input !== null && !isVector(input) && 'x' in input;
          const x = (isEvent ? (input as { x: unknown }).x : input) as ArrayLike<number>;
          const rawKey = isEvent ? (input as { key?: unknown }).key : undefined;
          const key = rawKey === undefined ? '' : String(rawKey);
          let s = stats.get(key);
          const error = checkVector(x, s ? s.mean.length : -1, key);
          if (error) {
            bad(error, input);
            return;
          }
          const F = x.length;
          if (!s) {
            if (stats.size >= maxKeys) {
              const e = new InvalidInputError('SEQ_STANDARDIZE_TOO_MANY_KEYS', `Key ${describe(key)} is over the limit of ${maxKeys} keys (option maxKeys)`, { key, maxKeys });
              bad(e, input);
              return;
            }
            s = { count: 0, mean: new Float64Array(F), m2: new Float64Array(F) };
            stats.set(key, s);
          }
          const frozen = control?.frozen ?? options.freeze ?? false;
          const updating = !frozen && s.count < freezeAfter;
          if (updating) {
            const n = ++s.count;
            for (let i = 0; i < F; i++) {
              const d = x[i] - s.mean[i];
              s.mean[i] += d / n;
              s.m2[i] += d * (x[i] - s.mean[i]);
            }
          }
          if (updating && s.count <= warmup) return;
          const z = new Float32Array(F);
          const n = Math.max(s.count, 1);
          for (let i = 0; i < F; i++) {
            const v = (x[i] - s.mean[i]) / Math.sqrt(s.m2[i] / n + epsilon);
            z[i] = v > clip ? clip : v < -clip ? -clip : v;
          }
          subscriber.next((isEvent ? { ...(input as object), x: z } : z) as Standardized<T>);
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}

function isVector(v: unknown): boolean {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function checkVector(x: unknown, expected: number, key: string): InvalidInputError | null {
  if (!isVector(x) || (x as ArrayLike<unknown>).length === 0) {
    return new InvalidInputError('SEQ_INPUT_TYPE', `standardize() input for key ${describe(key)} must be a non-empty numeric vector or { key, x }, received ${describe(x)}`, { key });
  }
  const v = x as ArrayLike<unknown>;
  if (expected !== -1 && v.length !== expected) {
    return new InvalidInputError('SEQ_INPUT_SHAPE', `standardize() input for key ${describe(key)} must have shape [${expected}] like its first reading, received [${v.length}]`, { key, expected: [expected], received: [v.length] });
  }
  for (let i = 0; i < v.length; i++) {
    const n = v[i];
    if (typeof n !== 'number') return new InvalidInputError('SEQ_INPUT_TYPE', `standardize() input for key ${describe(key)} holds a non-number at index ${i}: ${describe(n)}`, { key, index: i });
    if (!Number.isFinite(n)) return new InvalidInputError('SEQ_INPUT_NON_FINITE', `standardize() input for key ${describe(key)} holds ${n} at index ${i}`, { key, index: i, value: String(n) });
  }
  return null;
}

function toSnapshot(stats: Map<string, KeyStats>): StandardizeSnapshot {
  return {
    format: 'seqstream-standardize',
    version: 1,
    keys: [...stats].map(([key, s]) => ({ key, count: s.count, mean: Array.from(s.mean), m2: Array.from(s.m2) })),
  };
}

function readSnapshot(snap: unknown): StandardizeSnapshot {
  const fail = (why: string) => new ModelFormatError('SEQ_STATE_FORMAT', `standardize() state snapshot is invalid: ${why}`);
  if (typeof snap !== 'object' || snap === null) throw fail(`expected an object, received ${describe(snap)}`);
  const s = snap as Partial<StandardizeSnapshot>;
  if (s.format !== 'seqstream-standardize' || s.version !== 1) throw fail(`expected format 'seqstream-standardize' version 1, received ${describe(s.format)} version ${describe(s.version)}`);
  if (!Array.isArray(s.keys)) throw fail('keys must be an array');
  const seen = new Set<string>();
  s.keys.forEach((k, i) => {
    const ok =
      typeof k === 'object' && k !== null && typeof k.key === 'string' && !seen.has(k.key) &&
      Number.isInteger(k.count) && k.count >= 0 && Array.isArray(k.mean) && Array.isArray(k.m2) &&
      k.mean.length > 0 && k.mean.length === k.m2.length &&
      k.mean.every(Number.isFinite) && k.m2.every((v: number) => Number.isFinite(v) && v >= 0);
    if (!ok) throw fail(`keys[${i}] must be { key (unique string), count (integer >= 0), mean, m2 (equal-length finite arrays, m2 >= 0) }`);
    seen.add(k.key);
  });
  return s as StandardizeSnapshot;
}

function cloneStats(snap: StandardizeSnapshot): Map<string, KeyStats> {
  return new Map(snap.keys.map((k) => [k.key, { count: k.count, mean: Float64Array.from(k.mean), m2: Float64Array.from(k.m2) }]));
}
