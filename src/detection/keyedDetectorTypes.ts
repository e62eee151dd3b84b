/** The types of the keyed detector operators (`detectAnomalies`, `detectAnomaliesParallel`): readings in, events out, and their options. */
import type { ErrorCallback, InvalidInputError } from '../errors.js';
import type { AnomalyDetectorJSON, Detection } from './anomalyDetector.js';
import type { DetectorCheckpoint, DetectorStateStore } from './detectorCheckpoint.js';
import type { DetectorControl } from './detectorControl.js';
import type { DetectorOptions, ValueRange } from './detectorOptions.js';

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
