import type { DetectorCheckpoint } from '../detection/detectorCheckpoint.js';
import type { KeyedCheckpoint } from '../streams/stateStore.js';

/** A partition's checkpoint: every key's state and the last seq applied (`offset`), of `recurrentByKey` or of the anomaly detector. */
export type PartitionCheckpoint = KeyedCheckpoint<string> | DetectorCheckpoint<string>;

/** One record of a partition's log, in log order: `seq` grows by at least 1 from record to record. */
export interface PartitionRecord {
  /** Position in the partition's log (JetStream: stream sequence; Kafka: offset). */
  seq: number;
  /** Subject / topic the record was published to. */
  subject: string;
  /** Raw payload. */
  data: Uint8Array;
  /** The key carried by the subject (an MQTT topic `<stream>/key/<key>`), when the payload has none. */
  subjectKey?: string;
}

/** A running read of one partition, started by {@link PartitionLog.read}. */
export interface PartitionReader {
  /**
   * Records in log order, in batches of what has arrived (each non-empty); ends when
   * {@link PartitionReader.stop} is called or the read fails. A batch is stepped as one micro-batch.
   */
  batches: AsyncIterable<PartitionRecord[]>;
  /** Stops the read; `batches` ends. */
  stop(): void;
}

/**
 * The engine's log, seen by a worker: read one partition from a position, publish outputs and
 * dead letters idempotently by id (pipelined: queued at once, retried until stored), drop what
 * a checkpoint covers. Engine-neutral: JetStream implements it with one stream per partition
 * (`JetStreamEngine`), Kafka would with one topic partition per partition and an idempotent producer.
 *
 * @example
 * ```ts
 * const reader = await log.read(3, 1201);
 * for await (const batch of reader.batches) for (const r of batch) log.emit(3, r.seq, handle(r.data));
 * await log.stored(3); // every output so far is stored
 * ```
 */
export interface PartitionLog {
  /** Reads `partition` from the first record with `seq >= fromSeq`. */
  read(partition: number, fromSeq: number): Promise<PartitionReader>;
  /** Queues one output, id `<partition>:<seq>` (a repeat is a no-op downstream); it is sent again until stored. */
  emit(partition: number, seq: number, payload: Uint8Array): void;
  /** Queues a rejected record with its error code and reason, id `<partition>:<seq>`, sent again until stored. */
  deadLetter(partition: number, seq: number, code: string, reason: string, payload: Uint8Array): void;
  /**
   * Resolves once every output and dead letter of `partition` queued before the call is stored;
   * rejects (`SEQ_CLUSTER_STOPPED`) if {@link PartitionLog.drop} comes first, or
   * (`SEQ_CLUSTER_REFUSED`) once the engine gave up on a refused publish of the partition, and
   * then again on every call until `drop`.
   */
  stored(partition: number): Promise<void>;
  /** Resolves once at most `atMost` outputs and dead letters of `partition` are not yet stored (back-pressure); rejects like `stored`. */
  below(partition: number, atMost: number): Promise<void>;
  /** Forgets `partition`'s queued publishes: the partition stopped here, nothing more of it is sent. */
  drop(partition: number): void;
  /** Drops records with `seq <= uptoSeq` (a durable checkpoint covers them). Best effort. */
  trim(partition: number, uptoSeq: number): Promise<void>;
}

/** What {@link PartitionCheckpointStore.claim} returns: the newest checkpoint and the fence that guards the next commit. */
export interface ClaimedCheckpoint {
  /** The partition's last committed checkpoint (its `offset` is the last seq applied), or undefined. */
  checkpoint: PartitionCheckpoint | undefined;
  /** Opaque fence: a commit with an older fence fails with `SEQ_CLUSTER_FENCED`. */
  fence: number;
  /** Checkpoint bodies no pointer named (commits cut short by a crash), removed by this claim. */
  orphansRemoved?: number;
}

/**
 * Checkpoints of partitions, fenced: `claim` makes every earlier holder's next `commit` fail, so
 * a stalled worker that wakes up cannot overwrite its successor's state.
 *
 * @example
 * ```ts
 * let { checkpoint, fence } = await store.claim(3, 'worker-a');
 * fence = await store.commit(3, fence, job.capture()); // SEQ_CLUSTER_FENCED if taken over
 * ```
 */
export interface PartitionCheckpointStore {
  /** Loads the newest checkpoint and takes the fence for `owner`. */
  claim(partition: number, owner: string): Promise<ClaimedCheckpoint>;
  /**
   * Durably stores `checkpoint` if `fence` is still current; resolves to the new fence. `owned`,
   * if given, is asked again right before the commit point (after the body is written, which can
   * take long): false fails with `SEQ_CLUSTER_FENCED`, so a worker stalled mid-commit past its
   * lease does not commit once it runs again.
   */
  commit(partition: number, fence: number, checkpoint: PartitionCheckpoint, owned?: () => boolean): Promise<number>;
}

/** One entry of a {@link LeaseTable}, as the local watcher last saw it. */
export interface LeaseEntry {
  key: string;
  /** Value (JSON text), or null once deleted. */
  value: string | null;
  /** Revision, compared by {@link LeaseTable.update}. */
  revision: number;
  /** Local monotonic time (`performance.now()`) when this revision was first seen. */
  seenAt: number;
}

/**
 * A small replicated table with compare-and-set, watched locally: the basis of partition leases
 * and group membership. Expiry is judged by each watcher from `seenAt` (no server-side TTL).
 *
 * @example
 * ```ts
 * const rev = await table.create('lease.3', JSON.stringify({ owner: 'a' }));
 * await table.update('lease.3', JSON.stringify({ owner: 'a' }), rev); // renew; throws if someone else wrote
 * ```
 */
export interface LeaseTable {
  /** Every live entry as last seen (deleted ones are absent). */
  entries(): Map<string, LeaseEntry>;
  /** Creates `key`; rejects if it exists. Resolves to the revision. */
  create(key: string, value: string): Promise<number>;
  /** Writes `key` if its revision is still `revision`; rejects otherwise. Resolves to the new revision. */
  update(key: string, value: string, revision: number): Promise<number>;
  /** Writes `key` unconditionally (membership heartbeats). */
  put(key: string, value: string): Promise<number>;
  /** Deletes `key` if its revision is still `revision`. */
  remove(key: string, revision: number): Promise<void>;
  /** Reads `key` directly into the view (after a lost compare-and-set, so a lagging watcher cannot keep a stale revision in use). */
  refresh(key: string): Promise<void>;
}

/** Everything a worker needs from an engine. */
export interface ClusterEngine {
  log: PartitionLog;
  checkpoints: PartitionCheckpointStore;
  leases: LeaseTable;
  /** Number of partitions, fixed when the topology was created. */
  partitions: number;
  /** Closes connections. */
  close(): Promise<void>;
}
