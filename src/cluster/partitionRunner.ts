import { Subject, type OperatorFunction, type Subscription } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import { SeqstreamError, type InvalidInputError } from '../errors.js';
import { KeyedRecurrentControl } from '../streams/keyedRecurrentControl.js';
import { recurrentByKey, type KeyedEvent, type KeyedOutput } from '../streams/recurrentByKey.js';
import type { KeyedCheckpoint } from '../streams/stateStore.js';
import type { ClaimedCheckpoint, ClusterEngine, PartitionReader, PartitionRecord } from './clusterEngine.js';
import { parseClusterEvent } from './parseClusterEvent.js';

/** Builds the keyed pipeline a partition runs; the default is `recurrentByKey(model, ...)`. The hook for other operators (e.g. an anomaly detector over `recurrentByKey`). */
export type PartitionPipeline = (args: {
  resumeFrom: KeyedCheckpoint<string> | undefined;
  control: KeyedRecurrentControl<string>;
  onError: (error: InvalidInputError, event: unknown) => void;
  maxBatch: number;
  batchWaitMs: number;
}) => OperatorFunction<KeyedEvent<string>, KeyedOutput<string>>;

/** Options of {@link PartitionRunner} (defaults are set by `ClusterWorker`). */
export interface PartitionRunnerOptions {
  partition: number;
  model: RecurrentModel;
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
  pipeline?: PartitionPipeline;
  /** Status lines; `trace` adds one per checkpoint. */
  status: (line: string) => void;
  trace: boolean;
}

const encoder = new TextEncoder();

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
 * pipeline, publish outputs and dead letters by id, checkpoint, trim.
 *
 * Algorithm:
 * 1. `applied` = the checkpoint's seq (0 without one); the pipeline resumes from its states and
 *    the log is read from `applied + 1`, in batches of what has arrived.
 * 2. Each record of a batch: skip it if `seq <= applied` (a replay); else `applied = seq`.
 *    Oversize or malformed payloads, and events the pipeline rejects, go to the dead-letter
 *    subject with their code; valid ones are queued, and the batch is stepped as one micro-batch.
 * 3. Each output is queued on the log with id `<partition>:<seq>` (pipelined, resent until
 *    stored); reading pauses while more than `maxInFlight` are unacknowledged.
 * 4. Every `checkpointEveryMs` / `checkpointEveryEvents`: capture every key's state with
 *    `offset = applied`, wait until every output and dead letter up to it is stored (reading
 *    and stepping go on meanwhile), commit it through the fence, then trim the log up to it.
 *    A failed fence means another worker owns the partition: stop at once, write nothing more.
 *
 * @example
 * ```ts
 * const runner = new PartitionRunner({ partition: 3, model, engine, claimed, leaseFresh, onLost, ...settings });
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
  private readonly input = new Subject<KeyedEvent<string>>();
  private readonly control = new KeyedRecurrentControl<string>();
  private current: PartitionRecord | undefined;
  private loop: Promise<void> | undefined;
  readonly stats: PartitionStats;

  constructor(private readonly o: PartitionRunnerOptions) {
    this.p = o.partition;
    this.fence = o.claimed.fence;
    this.applied = this.lastCommitted = o.claimed.checkpoint?.offset ?? 0;
    this.stats = { partition: this.p, applied: 0, skipped: 0, deadLetters: 0, outputs: 0, checkpoints: 0, checkpointMs: 0, checkpointSeq: this.lastCommitted };
  }

  /** Subscribes the pipeline and starts reading after the checkpoint. */
  async start(): Promise<void> {
    const o = this.o;
    // The engine is pinned: replay after a takeover must give the same bits whatever the batching
    // ('auto' may hand large flushes to onnxruntime-node).
    const pipeline: PartitionPipeline =
      o.pipeline ??
      ((a) => recurrentByKey<string>(o.model, { resumeFrom: a.resumeFrom, control: a.control, onError: a.onError, maxBatch: a.maxBatch, maxWaitMs: a.batchWaitMs, maxKeys: 1_000_000, engine: 'wasm' }));
    const op = pipeline({
      resumeFrom: o.claimed.checkpoint,
      control: this.control,
      onError: (error) => this.deadLetter(this.current, error.code, error.message),
      maxBatch: o.maxBatch,
      batchWaitMs: o.batchWaitMs,
    });
    this.sub = this.input.pipe(op).subscribe({
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
      this.lose(`reading the partition failed: ${(e as Error).message}`);
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
    this.input.next({ key: parsed.key, x: parsed.x as ArrayLike<number>, reset: parsed.reset, offset: r.seq });
  }

  private emit(out: KeyedOutput<string>): void {
    if (this.stopped) return;
    const seq = out.offset as number;
    const body = encoder.encode(JSON.stringify({ key: out.key, y: Array.from(out.y), p: this.p, seq }));
    this.stats.outputs++;
    this.o.engine.log.emit(this.p, seq, body);
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
    let cp: KeyedCheckpoint<string>;
    try {
      cp = this.control.capture({ includeModel: false }); // steps what is queued first
    } catch {
      return; // pipeline already stopped
    }
    cp.offset = this.applied;
    this.eventsSinceCheckpoint = 0;
    try {
      await this.o.engine.log.stored(this.p); // every output and dead letter up to cp.offset
    } catch {
      return; // stopped while waiting
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
