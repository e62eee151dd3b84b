import { Observable, type OperatorFunction } from 'rxjs';
import { describe, InvalidInputError, InvalidOptionError, SeqstreamError, type ErrorCallback } from '../errors.js';
import { AnomalyDetector, type AnomalyDetectorJSON, type Detection } from './anomalyDetector.js';
import type { DetectorCheckpoint, DetectorStateStore } from './detectorCheckpoint.js';
import type { DetectorBinding, DetectorControl } from './detectorControl.js';
import { resolveDetectorOptions, type DetectorOptions, type ValueRange } from './detectorOptions.js';
import { handleInvalidInput } from '../streams/internal/handleInvalidInput.js';
import { DetectorSlots, type DetectorSlot } from './detectorSlots.js';

/** One reading of {@link detectAnomalies}: sensor sources emit this shape (`SensorEvent`). */
export interface SensorReading<K = string | number> {
  /** Which stream (sensor); each key has its own detector. */
  key: K;
  /** The value, or a vector whose element `options.index` is scored. */
  x: number | ArrayLike<number>;
  /** Event time in ms since the epoch (drives the time-of-day context); absent = no calendar context. */
  timestamp?: number;
  /** Source position, recorded in checkpoints (default: the event's 0-based position). */
  offset?: number;
}

/** One output of {@link detectAnomalies}, for every accepted reading, in arrival order. */
export interface AnomalyEvent<K = string | number, E = SensorReading<K>> extends Detection {
  key: K;
  timestamp: number | undefined;
  /** The scored value, as given. */
  x: number;
  /** `score >= threshold`. */
  alert: boolean;
  /** The input event itself (what a writer needs to echo the row). */
  event: E;
}

/** Why a key's detector left. */
export type DetectorEvictionReason = 'lru' | 'idle' | 'deleted';

/** Durable checkpoints of {@link detectAnomalies}. */
export interface DetectorCheckpointOptions<K> {
  /** Where checkpoints go (`MemoryDetectorStore`, `FileDetectorStore`, your own). */
  store: DetectorStateStore<K>;
  /** Checkpoint after this many scored events. Default 0 (off). */
  everyEvents?: number;
  /** Write a last checkpoint when the source completes (completion waits for it). Default true. */
  onComplete?: boolean;
}

/** Options of {@link detectAnomalies}: the detector's parameters (one set for every key) and the keyed machinery. */
export interface DetectAnomaliesOptions<K> extends DetectorOptions {
  /** Alert when `score >= threshold`. Default 0.6. */
  threshold?: number;
  /** Element of a vector `x` that is scored. Default 0. */
  index?: number;
  /** Known value range per key (NAB: the file's min/max); overrides `range`. Default none. */
  rangeOf?: (key: K) => ValueRange | undefined;
  /** Learning period per key; overrides `learningPeriod`. Default none. */
  learningPeriodOf?: (key: K) => number | undefined;
  /** Most live keys; a new key beyond it evicts the least recently used. Default 100000. */
  maxKeys?: number;
  /** Evict keys silent this long, in ms of `clock` (checked as events arrive). Default Infinity. */
  idleTtlMs?: number;
  /** Called with every key that leaves and its last state. Default none. */
  onEvict?: (eviction: { key: K; reason: DetectorEvictionReason; state: AnomalyDetectorJSON }) => void;
  /** State for a key seen for the first time (e.g. parked by `onEvict`); undefined = fresh. Default none. */
  initialState?: (key: K) => AnomalyDetectorJSON | undefined;
  /** Start from this checkpoint (replay the source after `checkpoint.offset`). Default none. */
  resumeFrom?: DetectorCheckpoint<K>;
  /** Periodic durable checkpoints. Default none. */
  checkpoint?: DetectorCheckpointOptions<K>;
  /** `'skip'`: a bad reading is reported to `onError` and dropped, its key goes on; `'error'`: the stream errors. Default `'skip'`. */
  invalidInput?: 'skip' | 'error';
  /** Side channel for bad readings (`SEQ_DETECT_BAD_VALUE`, `SEQ_DETECT_MISSING_KEY`, `SEQ_DETECT_BAD_TIMESTAMP`, `SEQ_DETECT_INITIAL_STATE`). Default none. */
  onError?: ErrorCallback<unknown, InvalidInputError>;
  /** Handle to snapshot/restore keys and checkpoint while running. Default none. */
  control?: DetectorControl<K>;
  /** Clock for `idleTtlMs`. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Scores every reading of many keyed sensor streams for anomalies, online: one detector per key
 * (see `AnomalyDetector`: a GRU forecaster learning by TBPTT, the anomaly likelihood of its error,
 * range excursions and level novelty), one parameter set for all keys, a score in [0, 1) and an alert flag.
 *
 * Algorithm, per subscription:
 * 1. On subscribe, load `resumeFrom` (detectors and counters) and bind `control`.
 * 2. Per reading: check key, value and timestamp (a bad one goes to `onError`, nothing
 *    else changes); find the key's detector or create it (`initialState`, else fresh with
 *    `rangeOf`/`learningPeriodOf`); beyond `maxKeys` the least recently used key is evicted, and
 *    keys idle for `idleTtlMs` too (`onEvict` gets their state).
 * 3. Score and learn (`detector.update`), emit `{ key, timestamp, x, score, alert, ... , event }`.
 * 4. Every `checkpoint.everyEvents` events capture every key's state (synchronously, so it is
 *    exactly the state after that event) and save it, one save at a time; on complete flush a last one.
 * A key's scores depend only on its own readings so far: interleaving keys changes nothing.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { detectAnomalies } from 'seqstream/detection';
 * const readings = Array.from({ length: 600 }, (_, t) => ({ key: 'pump', x: t === 500 ? 9 : Math.sin(t / 10), timestamp: t * 60_000 }));
 * from(readings)
 *   .pipe(detectAnomalies({ threshold: 0.6, learningPeriod: 100 }))
 *   .subscribe((e) => { if (e.alert) console.log(e.key, e.timestamp, e.score); });
 * ```
 */
export function detectAnomalies<K = string | number, E extends SensorReading<K> = SensorReading<K>>(
  options: DetectAnomaliesOptions<K> = {},
): OperatorFunction<E, AnomalyEvent<K, E>> {
  const base = resolveDetectorOptions(options);
  const threshold = num('threshold', options.threshold, 0.6);
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
  const clock = options.clock ?? Date.now;

  const optionsFor = (key: K) => {
    const range = options.rangeOf?.(key);
    const learningPeriod = options.learningPeriodOf?.(key);
    if (range === undefined && learningPeriod === undefined) return base;
    return resolveDetectorOptions({ ...options, range: range ?? options.range, learningPeriod: learningPeriod ?? base.learningPeriod });
  };

  return (source) =>
    new Observable<AnomalyEvent<K, E>>((subscriber) => {
      // In use order: the oldest slot is the least recently used key.
      const slots = new DetectorSlots<K>();
      let events = options.resumeFrom?.events ?? 0;
      let position = options.resumeFrom ? options.resumeFrom.offset + 1 : 0;
      let lastOffset = options.resumeFrom?.offset ?? -1;
      let rejected = 0;
      let evicted = 0;
      let saving: Promise<unknown> = Promise.resolve();
      let done = false;
      if (options.resumeFrom) {
        for (const { key, state } of options.resumeFrom.keys) slots.add(key, new AnomalyDetector(optionsFor(key), state), clock());
      }

      const evict = (slot: DetectorSlot<K>, reason: DetectorEvictionReason) => {
        slots.remove(slot.key);
        evicted++;
        options.onEvict?.({ key: slot.key, reason, state: slot.detector.toJSON() });
      };
      const capture = (): DetectorCheckpoint<K> => ({
        format: 'seqstream-detector-checkpoint',
        version: 1,
        offset: lastOffset,
        events,
        keys: Array.from(slots, (s) => ({ key: s.key, state: s.detector.toJSON() })),
      });
      const save = (): Promise<DetectorCheckpoint<K>> => {
        const store = options.checkpoint?.store;
        const cp = capture();
        if (!store) return Promise.reject(new SeqstreamError('SEQ_DETECT_NO_STORE', 'No checkpoint.store was configured for detectAnomalies', {}));
        const p = saving.then(() => store.save(cp)).then(() => cp);
        saving = p.catch(() => undefined);
        return p;
      };
      const reject = (code: string, message: string, event: unknown, details: Record<string, unknown>) => {
        const err = new InvalidInputError(code, message, details);
        rejected++;
        handleInvalidInput(invalidInput, options.onError, err, event, (e) => {
          done = true;
          subscriber.error(e);
        });
      };

      const binding: DetectorBinding<K> = {
        snapshot: (key) => slots.get(key)?.detector.toJSON(),
        restore: (key, state) => {
          slots.add(key, new AnomalyDetector(optionsFor(key), state), clock());
        },
        delete: (key) => {
          const slot = slots.get(key);
          if (!slot) return false;
          evict(slot, 'deleted');
          return true;
        },
        keys: () => Array.from(slots, (s) => s.key),
        stats: () => ({ keys: slots.size, events, rejected, evicted }),
        capture,
        checkpoint: save,
      };
      options.control?.bind(binding);

      const subscription = source.subscribe({
        next: (event) => {
          if (done) return;
          const at = position++;
          const e = event as Partial<SensorReading<K>> | null;
          if (typeof e !== 'object' || e === null || e.key === undefined || e.key === null) {
            return reject('SEQ_DETECT_MISSING_KEY', `Reading must be { key, x, timestamp? }, received ${describe(event)}`, event, { position: at });
          }
          const key = e.key as K;
          const raw = typeof e.x === 'number' ? e.x : e.x !== undefined && e.x !== null && typeof e.x === 'object' ? (e.x as ArrayLike<number>)[index] : undefined;
          if (typeof raw !== 'number' || !Number.isFinite(raw)) {
            return reject('SEQ_DETECT_BAD_VALUE', `Reading of key ${describe(key)} has no finite value${typeof e.x === 'object' ? ` at x[${index}]` : ''}, received ${describe(raw)}; skipped, the key goes on`, event, { key, position: at, received: describe(raw) });
          }
          const ts = e.timestamp;
          if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts))) {
            return reject('SEQ_DETECT_BAD_TIMESTAMP', `Reading of key ${describe(key)} has timestamp ${describe(ts)}, expected a finite number (ms) or none`, event, { key, position: at });
          }
          // The clock is read only where idle eviction needs it.
          const now = idleTtlMs !== Infinity ? clock() : 0;
          if (idleTtlMs !== Infinity) {
            for (let s = slots.oldest(); s && now - s.lastSeen >= idleTtlMs; s = slots.oldest()) evict(s, 'idle');
          }
          let slot = slots.get(key);
          if (slot) slots.touch(slot, now);
          else {
            let state: AnomalyDetectorJSON | undefined;
            let detector: AnomalyDetector;
            try {
              state = options.initialState?.(key);
              detector = new AnomalyDetector(optionsFor(key), state);
            } catch (thrown) {
              return reject('SEQ_DETECT_INITIAL_STATE', `initialState for key ${describe(key)} failed: ${(thrown as Error).message}`, event, { key });
            }
            while (slots.size >= maxKeys) evict(slots.oldest() as DetectorSlot<K>, 'lru');
            slot = slots.add(key, detector, now);
          }
          const d = slot.detector.update(raw, ts ?? 0);
          events++;
          lastOffset = typeof e.offset === 'number' ? e.offset : at;
          // Spelled out rather than spread: one object of one shape per reading.
          subscriber.next({
            key, timestamp: ts, x: raw, score: d.score, raw: d.raw, forecast: d.forecast, normalised: d.normalised, log10Likelihood: d.log10Likelihood,
            excursion: d.excursion, novelLevel: d.novelLevel, contextScore: d.contextScore, count: d.count, alert: d.score >= threshold, event,
          });
          if (everyEvents > 0 && events % everyEvents === 0) save().catch((err) => subscriber.error(err));
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          if (options.checkpoint && options.checkpoint.onComplete !== false) {
            save().then(
              () => subscriber.complete(),
              (err) => subscriber.error(err),
            );
          } else subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        options.control?.unbind(binding);
        slots.clear();
      };
    });
}

function num(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidOptionError(name, 'a finite number', v);
  return v;
}
