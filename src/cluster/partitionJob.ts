import type { OperatorFunction } from 'rxjs';
import type { InvalidInputError } from '../errors.js';
import type { PartitionCheckpoint } from './clusterEngine.js';

/** One decoded event of a partition, as a {@link PartitionJob}'s operator receives it. */
export interface PartitionEvent {
  key: string;
  /** The payload's `x`, unchecked (the job's operator checks it). */
  x: unknown;
  reset: boolean;
  /** The payload's `timestamp`, unchecked; undefined without one. */
  timestamp: unknown;
  /** The record's seq in the partition's log: carried to the output and into checkpoints. */
  offset: number;
}

/** One output of a {@link PartitionJob}: the bytes published downstream under id `<partition>:<seq>`. */
export interface PartitionOutput {
  /** Seq of the event this output belongs to. */
  seq: number;
  body: Uint8Array;
}

/** What a partition runs while one worker owns it: a keyed operator and a way to capture every key's state. */
export interface PartitionJob {
  /**
   * The keyed operator: at most one output per event, in event order per key. Bad events go to
   * the `onError` it was built with (they are dead-lettered) and the partition goes on. Its
   * outputs must depend only on the checkpoint and the events, never on batching or time, so a
   * replay after a takeover reproduces them bit for bit.
   */
  operator: OperatorFunction<PartitionEvent, PartitionOutput>;
  /** Every key's state after every event handed in so far (stepping what is queued first), as a new object. */
  capture(): PartitionCheckpoint;
}

/** What a {@link PartitionJobFactory} is given when a worker starts a partition. */
export interface PartitionJobArgs {
  partition: number;
  /** The partition's last committed checkpoint (resume after its `offset`), or undefined. */
  resumeFrom: PartitionCheckpoint | undefined;
  /** Where bad events go (the runner dead-letters the current record with the error's code). */
  onError: (error: InvalidInputError, event: unknown) => void;
  /** Most events stepped in one batch (`ClusterWorker` `maxBatch`). */
  maxBatch: number;
  /** How long an event waits for others to share its batch, in ms (`ClusterWorker` `batchWaitMs`). */
  batchWaitMs: number;
}

/**
 * Builds the job of one partition, each time a worker starts it. Throws (a coded error) if
 * `resumeFrom` is a checkpoint another kind of job wrote: the start fails and is reported.
 * Implementations: `recurrentJob(model)` (`recurrentByKey`) and `detectorJob(options)` (`detectAnomalies`).
 *
 * @example
 * ```ts
 * const worker = new ClusterWorker(engine, detectorJob({ threshold: 0.7 }), { id: 'w1' });
 * ```
 */
export type PartitionJobFactory = (args: PartitionJobArgs) => PartitionJob;
