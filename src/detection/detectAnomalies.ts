import { Observable, type OperatorFunction } from 'rxjs';
import type { AnomalyEvent, DetectAnomaliesOptions, DetectorEvictionReason, SensorReading } from './keyedDetectorTypes.js';
import { InvalidInputError } from '../errors.js';
import { AnomalyDetector } from './anomalyDetector.js';
import type { DetectorCheckpoint } from './detectorCheckpoint.js';
import { anomalyEvent } from './internal/anomalyEvent.js';
import { checkReading, type CheckedReading } from './internal/readingCheck.js';
import { detectorBindingOf } from './internal/detectorBindingOf.js';
import { admitKey, type Admission } from './internal/admitKey.js';
import { checkpointSaves } from './internal/checkpointSaves.js';
import { keyedDetectorSettings } from './internal/keyedDetectorOptions.js';
import { handleInvalidInput } from '../streams/internal/handleInvalidInput.js';
import { DetectorSlots, type DetectorSlot } from './detectorSlots.js';

export type { AnomalyEvent, DetectAnomaliesOptions, DetectorCheckpointOptions, DetectorEvictionReason, SensorReading } from './keyedDetectorTypes.js';

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
  const { optionsFor, threshold, index, maxKeys, idleTtlMs, invalidInput, everyEvents, clock } = keyedDetectorSettings(options);

  return (source) =>
    new Observable<AnomalyEvent<K, E>>((subscriber) => {
      // In use order: the oldest slot is the least recently used key.
      const slots = new DetectorSlots<K>();
      // Reused by every reading's check: nothing allocated per reading but the output.
      const checked: CheckedReading<K> = { key: undefined as K, x: 0, timestamp: undefined };
      let events = options.resumeFrom?.events ?? 0;
      let position = options.resumeFrom ? options.resumeFrom.offset + 1 : 0;
      let lastOffset = options.resumeFrom?.offset ?? -1;
      let rejected = 0;
      let evicted = 0;
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
      const save = checkpointSaves(options.checkpoint?.store, capture, 'detectAnomalies');
      const reject = (err: InvalidInputError, event: unknown) => {
        rejected++;
        handleInvalidInput(invalidInput, options.onError, err, event, (e) => {
          done = true;
          subscriber.error(e);
        });
      };

      const binding = detectorBindingOf(slots, evict, () => ({ events, rejected, evicted }), {
        snapshot: (key) => slots.get(key)?.detector.toJSON(),
        restore: (key, state) => {
          slots.add(key, new AnomalyDetector(optionsFor(key), state), clock());
        },
        capture,
        checkpoint: save,
      });
      options.control?.bind(binding);
      const admission: Admission<K, AnomalyDetector> = { slots, maxKeys, idleTtlMs, initialState: options.initialState, evict, make: (key, state) => new AnomalyDetector(optionsFor(key), state) };

      const subscription = source.subscribe({
        next: (event) => {
          if (done) return;
          const at = position++;
          const reading = checkReading<K>(event, index, at, checked);
          if (reading instanceof InvalidInputError) return reject(reading, event);
          const { key, x: raw, timestamp: ts } = reading;
          // The clock is read only where idle eviction needs it.
          const slot = admitKey(admission, key, idleTtlMs !== Infinity ? clock() : 0);
          if (slot instanceof InvalidInputError) return reject(slot, event);
          const d = slot.detector.update(raw, ts ?? 0);
          events++;
          const offset = (event as SensorReading<K>).offset;
          lastOffset = typeof offset === 'number' ? offset : at;
          subscriber.next(anomalyEvent(key, ts, raw, d, threshold, event));
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

