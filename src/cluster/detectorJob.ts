import { map, type Observable } from 'rxjs';
import { detectAnomalies } from '../detection/detectAnomalies.js';
import { DetectorControl } from '../detection/detectorControl.js';
import { DETECTOR_DEFAULTS, type DetectorOptions } from '../detection/detectorOptions.js';
import { InvalidOptionError } from '../errors.js';
import type { PartitionEvent, PartitionJobFactory } from './partitionJob.js';
import { wrongCheckpointKind } from './recurrentJob.js';

/** Options of {@link detectorJob}: the detector's parameters (one set for every key, see `DetectorOptions`) plus these. */
export interface DetectorJobOptions extends DetectorOptions {
  /** Alert when `score >= threshold`. Default 0.6. */
  threshold?: number;
  /** Element of a vector `x` that is scored. Default 0. */
  index?: number;
  /** Live keys per partition before the least recently used one is evicted (its state is lost). Default 100000. */
  maxKeys?: number;
}

const encoder = new TextEncoder();
/** Every option a detector job takes: the detector's own (those with a default, `range` and `contextRest`, whose default follows learningPeriod) and the job's. */
const ALLOWED = new Set([...Object.keys(DETECTOR_DEFAULTS), 'range', 'contextRest', 'threshold', 'index', 'maxKeys']);

/**
 * A partition job that runs the anomaly detector (`detectAnomalies`: one online-learning
 * detector per key) instead of `recurrentByKey`, with the same exactly-once effect: the
 * checkpoint is every key's detector state (plain JSON) plus the last seq applied.
 *
 * Per event: `x` (a number, or a vector whose element `index` is scored) and an optional
 * `timestamp` (ms since the epoch, the calendar context) are scored and learned; the output is
 * `{"key","timestamp","x","score","raw","alert","p","seq"}` (`timestamp` null without one). A
 * bad value or timestamp is dead-lettered with its code (`SEQ_DETECT_BAD_VALUE`,
 * `SEQ_DETECT_BAD_TIMESTAMP`) and the key goes on; `reset` is ignored (the detector learns on).
 * There is no idle eviction (it would depend on the wall clock, and a replay must not).
 *
 * @throws `SEQ_INVALID_OPTION` at once for an unknown or invalid option.
 * @example
 * ```ts
 * const worker = new ClusterWorker(engine, detectorJob({ threshold: 0.7, learningPeriod: 200 }), { id: 'w1' });
 * worker.start();
 * ```
 */
export function detectorJob(options: DetectorJobOptions = {}): PartitionJobFactory {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('detector options', 'an object', options);
  for (const k of Object.keys(options)) if (!ALLOWED.has(k)) throw new InvalidOptionError(k, `a detector option (${[...ALLOWED].join(', ')})`, (options as Record<string, unknown>)[k]);
  const parameters = { ...options };
  detectAnomalies(parameters); // checks every option now, not when a partition starts
  return ({ partition, resumeFrom, onError }) => {
    if (resumeFrom && resumeFrom.format !== 'seqstream-detector-checkpoint') throw wrongCheckpointKind(partition, resumeFrom, 'seqstream-detector-checkpoint');
    const control = new DetectorControl<string>();
    type Reading = PartitionEvent & { x: number | ArrayLike<number>; timestamp?: number };
    const detect = detectAnomalies<string, Reading>({ ...parameters, resumeFrom, control, onError, invalidInput: 'skip' });
    return {
      operator: (events) =>
        // x and timestamp are checked by detectAnomalies itself (dead-lettered with their code).
        (events as Observable<unknown> as Observable<Reading>).pipe(
          detect,
          map((d) => {
            const seq = d.event.offset;
            return { seq, body: encoder.encode(JSON.stringify({ key: d.key, timestamp: d.timestamp ?? null, x: d.x, score: d.score, raw: d.raw, alert: d.alert, p: partition, seq })) };
          }),
        ),
      capture: () => control.capture(),
    };
  };
}
