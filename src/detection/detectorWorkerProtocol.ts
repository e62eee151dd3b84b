/**
 * The messages between `detectAnomaliesParallel` and its detector threads (`detectorWorker.ts`).
 * The calling thread sends batches of operations, in arrival order; a thread answers each batch
 * with one reply holding the scores of its `score` operations, in order. Operations that hand a
 * state back (`evict` asking for it, `snapshot`, `capture`) answer at once on the thread's
 * request port and bump its counter, on which the calling thread waits (`Atomics.wait`): the
 * state is exactly the one after every operation before it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { AnomalyDetectorJSON, Detection } from './anomalyDetector.js';
import type { ResolvedDetectorOptions } from './detectorOptions.js';

/** Score a reading: `[OP_SCORE, slot, x, timestamp or NaN]`. */
export const OP_SCORE = 0;
/** Start a detector in a slot: `[OP_CREATE, slot, index into the batch's creates, 0]`. */
export const OP_CREATE = 1;
/** Drop a slot's detector: `[OP_EVICT, slot, 1 = answer with its state / 0, 0]`. */
export const OP_EVICT = 2;
/** Answer with every live detector's state, as `[slot, state]` pairs: `[OP_CAPTURE, 0, 0, 0]`. */
export const OP_CAPTURE = 3;
/** Answer with one slot's state: `[OP_SNAPSHOT, slot, 0, 0]`. */
export const OP_SNAPSHOT = 4;
/** Index of the answered-requests counter in a thread's `ctl`. */
export const ANSWERED = 0;
/** Float64 fields per operation. */
export const OP_FIELDS = 4;
/** Float64 fields per scored reading in a reply (see {@link writeDetection}; read by `anomalyEventAt`). */
export const RESULT_FIELDS = 9;

/** What a detector thread is started with. */
export interface DetectorWorkerData {
  /** Parameters of every key without its own (`rangeOf`, `learningPeriodOf`). */
  options: ResolvedDetectorOptions;
  /** `Int32Array` over this: `[ANSWERED]`. */
  ctl: SharedArrayBuffer;
  /** Where requests are answered. */
  port: MessagePort;
}

/** The answer to one request: a state, every state (`capture`), or why the thread failed. */
export type RequestAnswer =
  | { type: 'state'; state: AnomalyDetectorJSON }
  | { type: 'capture'; states: [slot: number, state: AnomalyDetectorJSON][] }
  | { type: 'failed'; message: string };

/** A detector to start: its own parameters (else the thread's) and the state to start from (else fresh). */
export interface CreateRequest {
  options?: ResolvedDetectorOptions;
  state?: AnomalyDetectorJSON;
}

/** Calling thread to detector thread: `n` operations of {@link OP_FIELDS} floats each. */
export interface DetectorBatch {
  ops: Float64Array;
  n: number;
  creates: CreateRequest[];
}

/** Detector thread to calling thread, one per {@link DetectorBatch}. */
export type DetectorReply =
  | { type: 'reply'; results: Float64Array }
  | { type: 'failed'; message: string };

/**
 * Writes one detection as {@link RESULT_FIELDS} floats at `at` (booleans as 0/1).
 *
 * @example
 * ```ts
 * writeDetection(results, 9 * i, detector.update(x, t));
 * ```
 */
export function writeDetection(out: Float64Array, at: number, d: Detection): void {
  out[at] = d.score;
  out[at + 1] = d.raw;
  out[at + 2] = d.forecast;
  out[at + 3] = d.normalised;
  out[at + 4] = d.log10Likelihood;
  out[at + 5] = d.excursion ? 1 : 0;
  out[at + 6] = d.novelLevel ? 1 : 0;
  out[at + 7] = d.contextScore;
  out[at + 8] = d.count;
}
