import { Subject, type Subscription } from 'rxjs';
import type { SeqstreamError } from '../errors.js';
import type { ClaimedCheckpoint, ClusterEngine, PartitionCheckpoint, PartitionReader, PartitionRecord } from './clusterEngine.js';
import type { PartitionEvent, PartitionJob, PartitionJobFactory, PartitionOutput } from './partitionJob.js';
import { parseClusterEvent } from './parseClusterEvent.js';

/** Options of {@link PartitionRunner} (defaults are set by `ClusterWorker`). */
export interface PartitionRunnerOptions {
  partition: number;
  /** What the partition runs (`recurrentJob(model)`, `detectorJob(options)`). */
  job: PartitionJobFactory;
  engine: ClusterEngine;
  claimed: ClaimedCheckpoint;
  /** Whether this worker still holds the partition's lease (checked before every write). */
  leaseFresh: () => boolean;
  /** Called once when the partition is lost (fenced or lease expired): the runner has stopped writing. */
  onLost: (reason: string) => void;
  checkpointEveryMs: number;
  checkpointEveryEvents: number;
  maxEventBytes: number;
  deadLetterMaxBytes: number;
  maxBatch: number;
  batchWaitMs: number;
  maxInFlight: number;
  /** Status lines; `trace` adds one per checkpoint. */
  status: (line: string) => void;
  trace: boolean;
}

/** Counters of one running partition. */
export interface PartitionStats {
  partition: number;
  /** Events handed to the pipeline (valid or not). */
  applied: number;
  /** Records at or below the checkpointed/applied seq, skipped. */
  skipped: number;
  deadLetters: number;
  outputs: number;
  checkpoints: number;
  /** Milliseconds spent from capture to committed checkpoint, summed. */
  checkpointMs: number;
  /** Seq of the last committed checkpoint (0: none). */
  checkpointSeq: number;
}

/**
 * Runs one owned partition: resume from its checkpoint, read the log after it, feed the keyed
 * job (`recurrentByKey`, or the anomaly detector), publish outputs and dead letters by id,
 * checkpoint, trim.
 *
 * Algorithm:
 * 1. `applied` = the checkpoint's seq (0 without one); the job resumes from its states and
 *    the log is read from `applied + 1`, in batches of what has arrived.
 * 2. Each record of a batch: skip it if `seq <= applied` (a replay); else `applied = seq`.
 *    Oversize or malformed payloads, and events the job rejects, go to the dead-letter
 *    subject with their code; valid ones are queued, and the batch is stepped as one micro-batch.
 * 3. Each output is queued on the log with id `<partition>:<seq>` (pipelined, resent until
 *    stored); reading pauses while more than `maxInFlight` are unacknowledged. If the log gives
 *    up on a refused publish (`SEQ_CLUSTER_REFUSED`), the partition stops without a commit.
 * 4. Every `checkpointEveryMs` / `checkpointEveryEvents`: capture every key's state with
 *    `offset = applied`, wait until every output and dead letter up to it is stored (reading
 *    and stepping go on meanwhile), commit it through the fence, then trim the log up to it.
 *    A failed fence means another worker owns the partition: stop at once, write nothing more.
 *
 * @example
 * ```ts
 * const runner = new PartitionRunner({ partition: 3, job: recurrentJob(model), engine, claimed, leaseFresh, onLost, ...settings });
 * await runner.start();
 * await runner.stop(true); // final checkpoint
 * ```
 */
export class PartitionRunner {
  private readonly p: number;
  private applied = 0;
  private lastCommitted = 0;
  private fence: number;
  private stopped = false;
  private saving: Promise<void> | null = null;
  private eventsSinceCheckpoint = 0;
  private reader: PartitionReader | undefined;
  private sub: Subscription | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly input = new Subject<PartitionEvent>();
  private job: PartitionJob | undefined;
  private current: PartitionRecord | undefined;
  private loop: Promise<void> | undefined;
  readonly stats: PartitionStats;

  constructor(private readonly o: PartitionRunnerOptions) {
    this.p = o.partition;
    this.fence = o.claimed.fence;
    this.applied = this.lastCommitted = o.claimed.checkpoint?.offset ?? 0;
    this.stats = { partition: this.p, applied: 0, skipped: 0, deadLetters: 0, outputs: 0, checkpoints: 0, checkpointMs: 0, checkpointSeq: this.lastCommitted };
  }

  /** Builds the job, subscribes it and starts reading after the checkpoint; throws if the job refuses the checkpoint. */
  async start(): Promise<void> {
    const o = this.o;
    const job = o.job({
      partition: this.p,
      resumeFrom: o.claimed.checkpoint,
      onError: (error) => this.deadLetter(this.current, error.code, error.message),
      maxBatch: o.maxBatch,
      batchWaitMs: o.batchWaitMs,
    });
    this.job = job;
    this.sub = this.input.pipe(job.operator).subscribe({
      next: (out) => this.emit(out),
      error: (e: Error) => this.lose(`pipeline failed: ${(e as SeqstreamError).code ?? ''} ${e.message}`),
    });
    this.reader = await o.engine.log.read(this.p, this.applied + 1);
    if (this.stopped) return this.reader.stop();
    this.timer = setInterval(() => void this.checkpoint(), o.checkpointEveryMs);
    this.loop = this.consume(this.reader);
  }

  private async consume(reader: PartitionReader): Promise<void> {
    try {
      const log = this.o.engine.log;
      for await (const batch of reader.batches) {
        if (this.stopped) break;
        if (!this.o.leaseFresh()) {
          this.lose('lease expired locally');
          break;
        }
        for (const r of batch) this.handle(r);
        // The pipeline steps the batch in a microtask, as one micro-batch (`batchWaitMs` 0).
        if (this.eventsSinceCheckpoint >= this.o.checkpointEveryEvents) void this.checkpoint();
        await log.below(this.p, this.o.maxInFlight);
      }
    } catch (e) {
      if (this.stopped) return; // the log dropped this partition's publishes
      const code = (e as SeqstreamError).code;
      this.lose(code === 'SEQ_CLUSTER_REFUSED' ? `${code}: ${(e as Error).message}` : `reading the partition failed: ${(e as Error).message}`);
    }
  }

  private handle(r: PartitionRecord): void {
    if (r.seq <= this.applied) {
      this.stats.skipped++;
      return;
    }
    this.applied = r.seq;
    this.stats.applied++;
    this.eventsSinceCheckpoint++;
    this.current = r;
    if (r.data.length > this.o.maxEventBytes) {
      this.deadLetter(r, 'SEQ_CLUSTER_OVERSIZE', `event of ${r.data.length} bytes is over maxEventBytes (${this.o.maxEventBytes})`);
      return;
    }
    const parsed = parseClusterEvent(r.data, r.subjectKey);
    if ('code' in parsed) {
      this.deadLetter(r, parsed.code, parsed.message);
      return;
    }
    this.input.next({ key: parsed.key, x: parsed.x, reset: parsed.reset, timestamp: parsed.timestamp, offset: r.seq });
  }

  private emit(out: PartitionOutput): void {
    if (this.stopped) return;
    this.stats.outputs++;
    this.o.engine.log.emit(this.p, out.seq, out.body);
  }

  private deadLetter(r: PartitionRecord | undefined, code: string, reason: string): void {
    if (!r || this.stopped) return;
    this.stats.deadLetters++;
    const data = r.data.length > this.o.deadLetterMaxBytes ? r.data.subarray(0, this.o.deadLetterMaxBytes) : r.data;
    this.o.engine.log.deadLetter(this.p, r.seq, code, reason, data);
  }

  /** Takes a checkpoint now unless one is being written; resolves when it is committed (or skipped). */
  checkpoint(): Promise<void> {
    if (this.saving) return this.saving;
    if (this.stopped || this.applied === this.lastCommitted) return Promise.resolve();
    this.saving = this.save().finally(() => {
      this.saving = null;
    });
    return this.saving;
  }

  private async save(): Promise<void> {
    const t0 = performance.now();
    let cp: PartitionCheckpoint;
    try {
      cp = this.job!.capture(); // steps what is queued first
    } catch {
      return; // job already stopped
    }
    cp.offset = this.applied;
    this.eventsSinceCheckpoint = 0;
    try {
      await this.o.engine.log.stored(this.p); // every output and dead letter up to cp.offset
    } catch (e) {
      // Outputs refused until the log gave up: this checkpoint can never cover them, so the
      // partition is given up (no commit) and its next owner replays from the last checkpoint.
      if ((e as SeqstreamError).code === 'SEQ_CLUSTER_REFUSED') this.lose(`SEQ_CLUSTER_REFUSED: ${(e as Error).message}`);
      return; // else: stopped while waiting
    }
    if (this.stopped) return;
    if (!this.o.leaseFresh()) return this.lose('lease expired locally');
    if (this.o.trace) this.o.status(`partition ${this.p}: checkpoint seq ${cp.offset} writing (${cp.keys.length} keys)`);
    try {
      this.fence = await this.o.engine.checkpoints.commit(this.p, this.fence, cp, () => !this.stopped && this.o.leaseFresh());
    } catch (e) {
      if ((e as SeqstreamError).code === 'SEQ_CLUSTER_FENCED') return this.lose('checkpoint fenced: another worker took the partition');
      this.o.status(`partition ${this.p}: checkpoint failed (${(e as Error).message}); retrying`);
      return;
    }
    this.lastCommitted = cp.offset;
    this.stats.checkpoints++;
    this.stats.checkpointSeq = cp.offset;
    this.stats.checkpointMs += performance.now() - t0;
    if (this.o.trace) this.o.status(`partition ${this.p}: checkpoint seq ${cp.offset} committed`);
    void this.o.engine.log.trim(this.p, cp.offset).catch(() => undefined);
  }

  /** Stops the partition; with `final`, first commits a last checkpoint (if the lease still holds). */
  async stop(final: boolean): Promise<void> {
    if (this.stopped) return;
    if (final) {
      await this.saving;
      await this.checkpoint();
    }
    this.halt();
    await this.loop;
  }

  private halt(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.reader?.stop();
    this.sub?.unsubscribe();
    this.o.engine.log.drop(this.p);
  }

  private lose(reason: string): void {
    if (this.stopped) return;
    this.halt();
    this.o.onLost(reason);
  }
}
