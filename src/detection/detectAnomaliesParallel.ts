import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidInputError, InvalidOptionError } from '../errors.js';
import { AnomalyDetector, type AnomalyDetectorJSON } from './anomalyDetector.js';
import type { AnomalyEvent, DetectAnomaliesOptions, DetectorEvictionReason, SensorReading } from './keyedDetectorTypes.js';
import type { DetectorCheckpoint } from './detectorCheckpoint.js';
import { DetectorLanes } from './detectorLanes.js';
import { DetectorSlots, type DetectorSlot } from './detectorSlots.js';
import { OP_CREATE, OP_EVICT, OP_SCORE } from './detectorWorkerProtocol.js';
import { anomalyEventAt } from './internal/anomalyEvent.js';
import { keyedDetectorSettings } from './internal/keyedDetectorOptions.js';
import { checkReading, type CheckedReading } from './internal/readingCheck.js';
import { detectorBindingOf } from './internal/detectorBindingOf.js';
import { admitKey, type Admission } from './internal/admitKey.js';
import { checkpointSaves } from './internal/checkpointSaves.js';
import { handleInvalidInput } from '../streams/internal/handleInvalidInput.js';

/** Options of {@link detectAnomaliesParallel}: those of `detectAnomalies` plus `threads`. */
export interface DetectAnomaliesParallelOptions<K> extends DetectAnomaliesOptions<K> {
  /** Detector threads; keys are spread over them. Default: the machine's cores (`os.availableParallelism()`), at most 64. */
  threads?: number;
}

/** Where a key's detector lives: a thread and a slot on it. */
interface Placement {
  lane: number;
  slot: number;
}


/**
 * `detectAnomalies` on several threads: the same detectors and the same scores, bit for bit, with
 * the keys spread over worker threads so that many keys use every core (`bench/detect.ts`
 * measures it at 10,000 keys against the one-thread operator in the same run).
 *
 * Differences from `detectAnomalies`:
 * - Outputs are asynchronous: still one per accepted reading and in arrival order, but each comes
 *   once its thread has scored it (readings go to a thread in batches of up to 256, or at the end
 *   of the current task). Bad readings are reported to `onError` as they arrive.
 * - Whatever hands a state back (`onEvict`, `checkpoint`, `DetectorControl`'s `snapshot`,
 *   `capture`, `checkpoint`) is synchronous as in `detectAnomalies` and exact: the calling thread
 *   waits until the key's thread has run every reading before. So `onEvict` can come before the
 *   outputs of earlier readings are emitted, and an eviction with `onEvict` costs a wait.
 * - A thread that fails or exits errors the stream with `SEQ_DETECT_WORKER_FAILED`.
 *
 * Algorithm, per subscription:
 * 1. Start `threads` detector threads (`detectorWorker.ts`), each with the shared parameters; load
 *    `resumeFrom` and bind `control`.
 * 2. Per reading, on the calling thread: check it (as `detectAnomalies`), find the key in the
 *    least-recently-used table or place it on the thread holding the fewest keys (evicting by
 *    `maxKeys`/`idleTtlMs` first), and append `score` to that thread's batch.
 * 3. Each thread runs its batch's operations in order (`create`, `score`, `evict`) and answers
 *    with the scores; the calling thread emits them in arrival order.
 * 4. A checkpoint is a `capture` on every thread at that point of the stream: each thread's
 *    answer is its keys' states after exactly the readings before it.
 *
 * @example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { detectAnomaliesParallel } from 'seqstream/detection';
 * const readings = new Subject<{ key: string; x: number; timestamp: number }>();
 * readings.pipe(detectAnomaliesParallel({ threads: 2, threshold: 0.6 })).subscribe((e) => {
 *   if (e.alert) console.log(e.key, e.timestamp, e.score);
 * });
 * readings.next({ key: 'pump-1', x: 3.2, timestamp: Date.now() });
 * ```
 */
export function detectAnomaliesParallel<K = string | number, E extends SensorReading<K> = SensorReading<K>>(
  options: DetectAnomaliesParallelOptions<K> = {},
): OperatorFunction<E, AnomalyEvent<K, E>> {
  const { base, optionsFor, threshold, index, maxKeys, idleTtlMs, invalidInput, everyEvents, clock } = keyedDetectorSettings(options);
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new InvalidOptionError('threads', 'an integer from 1 to 64', threads);
  /** What a thread is told to start a key with: its own parameters only when they differ. */
  const request = (key: K, state: AnomalyDetectorJSON | undefined) => {
    const own = optionsFor(key);
    return { options: own === base ? undefined : own, state };
  };

  return (source) =>
    new Observable<AnomalyEvent<K, E>>((subscriber) => {
      const slots = new DetectorSlots<K, Placement>();
      // Outputs waiting for their threads' results, in arrival order, as columns (no object per
      // reading); lane -1 is the end of the stream.
      const waiting = { lane: [] as number[], key: [] as K[], timestamp: [] as (number | undefined)[], x: [] as number[], event: [] as E[] };
      let head = 0;
      const checked: CheckedReading<K> = { key: undefined as K, x: 0, timestamp: undefined };
      let events = options.resumeFrom?.events ?? 0;
      let position = options.resumeFrom ? options.resumeFrom.offset + 1 : 0;
      let lastOffset = options.resumeFrom?.offset ?? -1;
      let rejected = 0;
      let evicted = 0;
      let done = false;
      const fail = (err: unknown) => {
        if (done) return;
        done = true;
        lanes.close();
        subscriber.error(err);
      };

      const deliver = () => {
        const w = waiting;
        while (!done && head < w.lane.length) {
          const lane = w.lane[head];
          if (lane === -1) {
            done = true;
            lanes.close();
            subscriber.complete();
            break;
          }
          if (!lanes.hasResult(lane)) break;
          const event = w.event[head];
          w.event[head] = undefined as unknown as E;
          subscriber.next(anomalyEventAt(w.key[head], w.timestamp[head], w.x[head], lanes.resultOf(lane), lanes.resultAt(lane), threshold, event));
          head++;
        }
        if (head > 4096 && head * 2 > w.lane.length) {
          for (const column of Object.values(w)) column.splice(0, head);
          head = 0;
        }
      };
      const lanes = new DetectorLanes(threads, base, deliver, fail);

      /** A new key's place: a slot on the thread with the fewest keys, told to start its detector. */
      const placement = (key: K, state: AnomalyDetectorJSON | undefined): Placement => {
        const at = lanes.place();
        lanes.push(at.lane, OP_CREATE, at.slot, lanes.create(at.lane, request(key, state)), 0);
        return at;
      };
      const place = (key: K, state: AnomalyDetectorJSON | undefined, now: number) => slots.add(key, placement(key, state), now);
      /** Drops a key's detector without a report (restore over it). */
      const drop = (slot: DetectorSlot<K, Placement>) => {
        slots.remove(slot.key);
        lanes.push(slot.detector.lane, OP_EVICT, slot.detector.slot, 0, 0);
        lanes.release(slot.detector.lane, slot.detector.slot);
      };
      const evict = (slot: DetectorSlot<K, Placement>, reason: DetectorEvictionReason) => {
        evicted++;
        if (!options.onEvict) return drop(slot);
        slots.remove(slot.key);
        const { lane, slot: s } = slot.detector;
        const state = lanes.evictWithState(lane, s);
        lanes.release(lane, s);
        options.onEvict({ key: slot.key, reason, state });
      };
      const capture = (): DetectorCheckpoint<K> => {
        const states = lanes.capture();
        return {
          format: 'seqstream-detector-checkpoint', version: 1, offset: lastOffset, events,
          keys: Array.from(slots, (s) => ({ key: s.key, state: states[s.detector.lane].get(s.detector.slot) as AnomalyDetectorJSON })),
        };
      };
      const save = checkpointSaves(options.checkpoint?.store, capture, 'detectAnomaliesParallel');
      const reject = (err: InvalidInputError, event: unknown) => {
        rejected++;
        handleInvalidInput(invalidInput, options.onError, err, event, fail);
      };

      const binding = detectorBindingOf(slots, evict, () => ({ events, rejected, evicted }), {
        snapshot: (key) => {
          const slot = slots.get(key);
          return slot ? lanes.snapshot(slot.detector.lane, slot.detector.slot) : undefined;
        },
        restore: (key, state) => {
          new AnomalyDetector(optionsFor(key), state); // throws here, as detectAnomalies does, on a state that does not load
          const slot = slots.get(key);
          if (slot) drop(slot);
          place(key, state, clock());
        },
        capture,
        checkpoint: save,
      });
      options.control?.bind(binding);
      const admission: Admission<K, Placement> = {
        slots, maxKeys, idleTtlMs, initialState: options.initialState, evict,
        make: (key, state) => {
          // Loaded here once, so a state that does not load is this reading's error, not a thread's.
          if (state !== undefined) new AnomalyDetector(optionsFor(key), state);
          return placement(key, state);
        },
      };

      for (const { key, state } of options.resumeFrom?.keys ?? []) place(key, state, clock());

      const subscription = source.subscribe({
        next: (event) => {
          if (done) return;
          const at = position++;
          const reading = checkReading<K>(event, index, at, checked);
          if (reading instanceof InvalidInputError) return reject(reading, event);
          const { key, x, timestamp } = reading;
          try {
            const slot = admitKey(admission, key, idleTtlMs !== Infinity ? clock() : 0);
            if (slot instanceof InvalidInputError) return reject(slot, event);
            const { lane, slot: s } = slot.detector;
            lanes.push(lane, OP_SCORE, s, x, timestamp ?? NaN);
            waiting.lane.push(lane);
            waiting.key.push(key);
            waiting.timestamp.push(timestamp);
            waiting.x.push(x);
            waiting.event.push(event);
            events++;
            const offset = (event as SensorReading<K>).offset;
            lastOffset = typeof offset === 'number' ? offset : at;
            if (everyEvents > 0 && events % everyEvents === 0) save().catch(fail);
          } catch (err) {
            // A thread failed (the stream has its error) or onEvict threw.
            fail(err);
          }
        },
        error: fail,
        complete: () => {
          if (done) return;
          const end = () => {
            waiting.lane.push(-1);
            waiting.key.push(undefined as K);
            waiting.timestamp.push(undefined);
            waiting.x.push(0);
            waiting.event.push(undefined as unknown as E);
            deliver();
          };
          if (options.checkpoint && options.checkpoint.onComplete !== false) save().then(end, fail);
          else end();
          lanes.flush();
        },
      });
      return () => {
        done = true;
        subscription.unsubscribe();
        options.control?.unbind(binding);
        lanes.close();
        slots.clear();
      };
    });
}

function defaultThreads(): number {
  const os = globalThis.process?.getBuiltinModule?.('node:os') as typeof import('node:os') | undefined;
  return Math.min(64, Math.max(1, os?.availableParallelism?.() ?? 1));
}
