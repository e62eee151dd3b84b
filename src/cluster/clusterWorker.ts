import type { RecurrentModel } from '../cells/model.js';
import { InvalidOptionError, SeqstreamError } from '../errors.js';
import type { ClusterEngine } from './clusterEngine.js';
import { PartitionOwnership } from './partitionOwnership.js';
import type { PartitionJobFactory } from './partitionJob.js';
import { PartitionRunner, type PartitionStats } from './partitionRunner.js';
import { recurrentJob } from './recurrentJob.js';
import { numberOption } from '../options.js';

/** Options of {@link ClusterWorker}, with defaults. */
export interface ClusterWorkerOptions {
  /** Worker id, unique in the group. Default `<hostname>-<pid>-<random>` is set by the caller; required here. */
  id: string;
  /** Lease lifetime in ms: a dead worker's partitions move after about this long. Default 1500. */
  leaseMs?: number;
  /** Lease renewal / assignment tick in ms. Default leaseMs / 6. */
  tickMs?: number;
  /** Checkpoint every this many ms (if anything was applied). Default 1000. */
  checkpointEveryMs?: number;
  /** ... or after this many events of one partition. Default 20000. */
  checkpointEveryEvents?: number;
  /** Larger payloads go to the dead-letter subject (`SEQ_CLUSTER_OVERSIZE`). Default 65536. */
  maxEventBytes?: number;
  /** A dead letter carries at most this many bytes of the original payload. Default 4096. */
  deadLetterMaxBytes?: number;
  /** Most events stepped in one batch. Default 1024. */
  maxBatch?: number;
  /** How long an event waits for others to share its batch, in ms; 0 steps each arrived batch of records at once. Default 0. */
  batchWaitMs?: number;
  /** Most unacknowledged output publishes per partition before reading pauses. Default 1024. */
  maxInFlight?: number;
  /** Status lines (acquired, released, lost, unreachable). Default none. */
  status?: (line: string) => void;
  /** Also report each checkpoint. Default false. */
  trace?: boolean;
}

/**
 * One member of a worker group: holds leases on some partitions of a {@link ClusterEngine} and
 * runs a {@link PartitionRunner} (keyed job + checkpoints) on each. The job is `recurrentByKey`
 * over a model (pass the `RecurrentModel`, or `recurrentJob(model)`) or the anomaly detector
 * (`detectorJob(options)`); every worker of a group must run the same job with the same settings. Partitions move to it
 * when another worker dies, stalls or leaves, and away from it when a new one joins.
 *
 * @example
 * ```ts
 * const engine = await connectJetStreamEngine({ servers: 'nats://127.0.0.1:4222', stream: 'sensors', partitions: 8 });
 * const worker = new ClusterWorker(engine, model, { id: 'w1', status: console.error });
 * // or: new ClusterWorker(engine, detectorJob({ threshold: 0.7 }), { id: 'w1' })
 * worker.start();
 * process.on('SIGTERM', () => worker.stop().then(() => engine.close()));
 * ```
 */
export class ClusterWorker {
  private readonly runners = new Map<number, PartitionRunner>();
  private readonly ownership: PartitionOwnership;
  private readonly settings;
  private readonly status: (line: string) => void;
  private readonly finished: PartitionStats[] = [];
  /** Runners still stopping, by partition: a new runner of the partition waits for its predecessor to halt (it shares the partition's output lane). */
  private readonly stopping = new Map<number, Promise<void>>();
  private readonly job: PartitionJobFactory;

  constructor(
    private readonly engine: ClusterEngine,
    work: RecurrentModel | PartitionJobFactory,
    options: ClusterWorkerOptions,
  ) {
    this.job = typeof work === 'function' ? work : recurrentJob(work);
    if (!options || typeof options.id !== 'string' || !/^[-\w]+$/.test(options.id)) throw new InvalidOptionError('id', 'letters, digits, - or _', options?.id);
    const leaseMs = numberOption('leaseMs', options.leaseMs, 1500, { min: 50 });
    this.settings = {
      checkpointEveryMs: numberOption('checkpointEveryMs', options.checkpointEveryMs, 1000, { min: 1 }),
      checkpointEveryEvents: numberOption('checkpointEveryEvents', options.checkpointEveryEvents, 20_000, { min: 1 }),
      maxEventBytes: numberOption('maxEventBytes', options.maxEventBytes, 65_536, { min: 1 }),
      deadLetterMaxBytes: numberOption('deadLetterMaxBytes', options.deadLetterMaxBytes, 4096, { min: 0 }),
      maxBatch: numberOption('maxBatch', options.maxBatch, 1024, { min: 1 }),
      batchWaitMs: numberOption('batchWaitMs', options.batchWaitMs, 0, { min: 0 }),
      maxInFlight: numberOption('maxInFlight', options.maxInFlight, 1024, { min: 1 }),
      trace: options.trace ?? false,
    };
    this.status = options.status ?? (() => undefined);
    this.ownership = new PartitionOwnership(engine.leases, {
      memberId: options.id,
      partitions: engine.partitions,
      leaseMs,
      tickMs: options.tickMs,
      status: this.status,
      onAcquire: (p) => this.acquire(p, options.id),
      onRelease: async (p) => {
        const r = this.runners.get(p);
        this.runners.delete(p);
        if (r) {
          const stopped = r.stop(true);
          void this.retire(p, stopped);
          await stopped;
          this.finished.push(r.stats);
          this.status(`partition ${p}: released at seq ${r.stats.checkpointSeq}`);
        }
      },
      onLost: (p, reason) => {
        const r = this.runners.get(p);
        this.runners.delete(p);
        if (r) {
          void this.retire(p, r.stop(false));
          this.finished.push(r.stats);
        }
        this.status(`partition ${p}: lost (${reason}); stopped writing`);
      },
    });
  }

  /** Remembers a stopping runner until it has halted, so `acquire` of the same partition waits for it. */
  private retire(p: number, stopped: Promise<unknown>): Promise<void> {
    const done: Promise<void> = stopped.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      if (this.stopping.get(p) === done) this.stopping.delete(p);
    });
    this.stopping.set(p, done);
    return done;
  }

  private async acquire(p: number, owner: string): Promise<void> {
    const t0 = performance.now();
    // A runner of p released or lost a moment ago may still be halting; it drops p's output lane
    // when it does, which must not happen under a new runner (its unsent outputs would be lost).
    await this.stopping.get(p);
    const claimed = await this.engine.checkpoints.claim(p, owner);
    // A claim slower than the start timeout: the lease was given back meanwhile (and may be held
    // by a newer start here), so this one must not run the partition.
    if (!this.ownership.isFresh(p) || this.runners.has(p)) throw new SeqstreamError('SEQ_CLUSTER_STOPPED', `partition ${p}: its lease was given up while the checkpoint was claimed`, { partition: p });
    const runner = new PartitionRunner({
      ...this.settings,
      partition: p,
      job: this.job,
      engine: this.engine,
      claimed,
      status: this.status,
      leaseFresh: () => this.ownership.isFresh(p),
      onLost: (reason) => {
        if (this.runners.get(p) !== runner) return;
        this.runners.delete(p);
        this.finished.push(runner.stats);
        this.ownership.giveUp(p);
        this.status(`partition ${p}: lost (${reason}); stopped writing`);
      },
    });
    this.runners.set(p, runner);
    await runner.start();
    const cp = claimed.checkpoint;
    this.status(`partition ${p}: acquired, resuming after seq ${cp?.offset ?? 0} (${cp?.keys.length ?? 0} keys) in ${Math.round(performance.now() - t0)} ms${claimed.orphansRemoved ? `, ${claimed.orphansRemoved} unfinished checkpoint bodies removed` : ''}`);
  }

  /** Joins the group and starts taking partitions. */
  start(): void {
    this.ownership.start();
  }

  /** Partitions running here now. */
  partitions(): number[] {
    return [...this.runners.keys()].sort((a, b) => a - b);
  }

  /** Counters of running partitions, then of those that stopped here. */
  stats(): PartitionStats[] {
    return [...[...this.runners.values()].map((r) => r.stats), ...this.finished];
  }

  /** Checkpoints every running partition now. */
  async checkpointAll(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.checkpoint()));
  }

  /** Leaves the group: a final checkpoint of each partition, then its lease is given back. */
  async stop(): Promise<void> {
    await this.ownership.stop();
  }
}
