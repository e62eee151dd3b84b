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
