import type { Detection } from '../anomalyDetector.js';
import type { AnomalyEvent } from '../keyedDetectorTypes.js';

/**
 * The output of a keyed detector for one scored reading, spelled out rather than spread: one
 * object of one shape per reading.
 *
 * @example
 * ```ts
 * subscriber.next(anomalyEvent(key, ts, x, detector.update(x, ts ?? 0), 0.6, event));
 * ```
 */
export function anomalyEvent<K, E>(key: K, timestamp: number | undefined, x: number, d: Detection, threshold: number, event: E): AnomalyEvent<K, E> {
  return {
    key, timestamp, x, score: d.score, raw: d.raw, forecast: d.forecast, normalised: d.normalised, log10Likelihood: d.log10Likelihood,
    excursion: d.excursion, novelLevel: d.novelLevel, contextScore: d.contextScore, count: d.count, alert: d.score >= threshold, event,
  };
}

/**
 * {@link anomalyEvent} from a detection written as floats (`writeDetection`'s layout, at `at`),
 * without an intermediate `Detection`: the same object shape.
 *
 * @example
 * ```ts
 * subscriber.next(anomalyEventAt(key, ts, x, results, 9 * i, 0.6, event));
 * ```
 */
export function anomalyEventAt<K, E>(key: K, timestamp: number | undefined, x: number, d: Float64Array, at: number, threshold: number, event: E): AnomalyEvent<K, E> {
  const score = d[at];
  return {
    key, timestamp, x, score, raw: d[at + 1], forecast: d[at + 2], normalised: d[at + 3], log10Likelihood: d[at + 4],
    excursion: d[at + 5] === 1, novelLevel: d[at + 6] === 1, contextScore: d[at + 7], count: d[at + 8], alert: score >= threshold, event,
  };
}
