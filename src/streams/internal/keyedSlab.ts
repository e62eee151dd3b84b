import type { StepEngine } from '../../kernels/autoStepper.js';
import type { RecurrentModel } from '../../cells/model.js';
import { restoreState, type StateSnapshot } from '../../cells/stateSnapshot.js';
import { captureKeyed, loadKeyed, type KeyedCheckpoint } from './keyedCheckpoint.js';
import { KeyTable, type Eviction } from './keyTable.js';
import { PendingQueue, type StepSubBatch } from './pendingQueue.js';
import { KeyedStep } from './keyedStep.js';
import { KeyedAdmission, type KeyedAdmissionOptions } from './keyedAdmission.js';
import type { KeyedProgress, KeyedStats } from './keyedStats.js';
import { HeldStep } from './heldStep.js';
import type { KeyedRowStore } from './stateRows.js';

export type { Eviction, EvictionReason } from './keyTable.js';
export type { KeyedStats } from './keyedStats.js';

/** One output of the keyed step, in the order its event arrived. */
export interface KeyedOutput<K> {
  key: K;
  /**
   * Head output (`emit: 'output' | 'all'`) or the top layer's `h` (`emit: 'hidden'`). Yours to keep:
   * a view on its own range of a buffer shared with the outputs of the same batch (`y.buffer` is
   * that buffer; use `y.slice()` for a compact copy, e.g. before sending `y.buffer` somewhere).
   */
  y: Float32Array;
  /** The top layer's `h` (same kind of view), only with `emit: 'all'`. */
  h?: Float32Array;
  /** The event's `offset`, when it had one. */
  offset?: number;
  /** `model.version` the step used (changes while a trainer updates the shared model). */
  modelVersion: number;
}

/** Options of {@link KeyedSlab} (already validated by the operator). */
export interface KeyedSlabOptions<K> extends KeyedAdmissionOptions<K> {
  maxKeys: number;
  idleTtlMs: number;
  emit: 'output' | 'hidden' | 'all';
  clock: () => number;
  profile: boolean;
  /** Step engine; undefined = `SEQSTREAM_ENGINE`, else auto. */
  engine?: StepEngine;
  onEvict?: (eviction: Eviction<K>) => void;
  output: (out: KeyedOutput<K>) => void;
}

/**
 * The state table behind `recurrentByKey`, from three parts: the {@link KeyTable} (keys to rows,
 * LRU, idle TTL, deferred resets and deletes) over the rows of a {@link KeyedStep} (state in the
 * kernel's memory, stepped by index), the {@link PendingQueue} (validated inputs, cut into
 * sub-batches) and checkpointing (`keyedCheckpoint.ts`). {@link add} validates and queues (the
 * {@link KeyedAdmission});
 * {@link flush} steps each sub-batch's rows where they are and emits in arrival order. No RxJS
 * here: the operator owns scheduling and emission.
 *
 * @example
 * ```ts
 * const slab = new KeyedSlab(model, { maxKeys: 10_000, maxBatch: 64, idleTtlMs: Infinity, emit: 'output', clock: Date.now, profile: false, onInvalid: report, output: (o) => subscriber.next(o) });
 * if (slab.add({ key: 'a', x: [0.1, 0.2] })) slab.flush();
 * ```
 */
export class KeyedSlab<K> {
  readonly model: RecurrentModel;
  private readonly step: KeyedStep;
  private readonly o: KeyedSlabOptions<K>;
  private readonly H: number;
  private readonly rows: KeyedRowStore;
  private readonly table: KeyTable<K>;
  private readonly queue: PendingQueue;
  /** Checks and queues inputs, and reports the bad ones (used directly by the block path). */
  readonly admission: KeyedAdmission<K>;
  private readonly batchRows: Int32Array;
  private readonly batchReset: Uint8Array;
  private outs: (KeyedOutput<K> | undefined)[] = [];
  private emitting = false;
  private readonly stepSubBatch = (n: number, idx: Int32Array, x: Float32Array): void => this.stepRows(n, idx, x);

  private readonly st: KeyedProgress = { events: 0, steps: 0, stepMs: 0, flushMs: 0, offset: Number.NaN };
  /** Steps blocks of held keys straight from the caller's buffers (the block fast path). */
  readonly held: HeldStep<K>;

  constructor(model: RecurrentModel, options: KeyedSlabOptions<K>) {
    this.model = model;
    this.o = options;
    const { inputSize, hiddenSize, cell } = model.config;
    this.H = hiddenSize;
    const B = options.maxBatch;
    this.step = new KeyedStep(model, B, options.emit, options.engine);
    this.rows = this.step.rows;
    this.batchRows = new Int32Array(B);
    this.batchReset = new Uint8Array(B);
    this.table = new KeyTable<K>(this.rows, { maxKeys: options.maxKeys, idleTtlMs: options.idleTtlMs, clock: options.clock, cell, onEvict: options.onEvict });
    this.queue = new PendingQueue(inputSize, B);
    this.admission = new KeyedAdmission(model, this.table, this.queue, this.rows, options);
    this.held = new HeldStep(this.step, this.table, this.st, options);
  }

  /** Number of keys held. */
  get size(): number {
    return this.table.size;
  }

  /** Offset of the last event stepped (arrival order), NaN if none carried one. */
  get offset(): number {
    return this.st.offset;
  }

  /** Events stepped so far (with those of a resumed checkpoint). */
  get events(): number {
    return this.st.events;
  }

  /** Events waiting for {@link flush}. */
  get pending(): number {
    return this.queue.length;
  }

  /** Whether `key` has a row. */
  has(key: K): boolean {
    return this.table.has(key);
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return this.table.keys();
  }

  /**
   * Validates and queues one event (see `KeyedAdmission.add`); returns true when the queue reached
   * `maxBatch` (the caller should flush). Bad input goes to `onInvalid` and nothing else changes.
   */
  add(event: unknown): boolean {
    return this.admission.add(event);
  }


  /** Floats per output row (`y`). */
  get yLen(): number {
    return this.step.yLen;
  }

  /**
   * Steps every pending event, at most `maxBatch` rows per stepper call and each key at most
   * once per call, then emits the outputs in arrival order. Re-entrant calls (from inside an
   * emission) return at once; the outer call picks up what they queued.
   */
  flush(): void {
    if (this.emitting) return;
    const queue = this.queue;
    while (queue.length > 0) {
      const m = Math.min(queue.length, this.o.maxBatch);
      if (this.outs.length < m) this.outs.length = m;
      this.stepQueue(m, this.stepSubBatch);
      this.emitting = true;
      try {
        const outs = this.outs;
        for (let i = 0; i < m; i++) {
          const out = outs[i] as KeyedOutput<K>;
          outs[i] = undefined;
          this.o.output(out);
        }
      } finally {
        this.emitting = false;
      }
      // Keys deleted (in those emissions or before) whose last queued event has now been emitted.
      this.table.releaseDeleted();
    }
  }

  /**
   * Steps the first `m` (at most `maxBatch`) queued events, `sub` building the outputs of each
   * sub-batch (each key once per sub-batch, in per-key order; see `PendingQueue.forEachSubBatch`),
   * then drops them from the queue. Keys idle past `idleTtlMs` leave first.
   */
  stepQueue(m: number, sub: StepSubBatch): void {
    const t0 = this.o.profile ? performance.now() : 0;
    this.table.evictIdle();
    this.queue.forEachSubBatch(m, this.rows.capacity, sub);
    // Drop the chunk from the queue before emitting: emissions may queue more events.
    this.queue.drop(m);
    if (this.o.profile) this.st.flushMs += performance.now() - t0;
  }

  /** Changes whenever a key gains or loses a row (see `KeyTable.generation`). */
  get rowGeneration(): number {
    return this.table.generation;
  }

  /** The row of a held key, or undefined. */
  rowOf(key: K): number | undefined {
    return this.table.rowOf(key);
  }

  /** Frees the rows of keys deleted while they had queued events, once those have stepped (call after emitting them). */
  releaseDeleted(): void {
    this.table.releaseDeleted();
  }

  /**
   * Steps the rows of queued events `idx[0..n)` (distinct rows, inputs `x`), writing their outputs
   * into `y` (`n * yLen`) and `h` (`n * hiddenSize`, only with `emit: 'all'`), and books them as
   * stepped (counters, the key table, the checkpoint offset).
   */
  stepQueued(n: number, idx: Int32Array, x: Float32Array, y: Float32Array, h: Float32Array | null): void {
    const { table, batchRows, batchReset } = this;
    const { row: qRow, reset: qReset, offset: qOffset } = this.queue;
    for (let j = 0; j < n; j++) {
      const i = idx[j];
      batchRows[j] = qRow[i];
      batchReset[j] = qReset[i];
    }
    const t0 = this.o.profile ? performance.now() : 0;
    this.step.run(batchRows, batchReset, n, x, y, h);
    if (this.o.profile) this.st.stepMs += performance.now() - t0;
    this.st.steps++;
    this.st.events += n;
    for (let j = 0; j < n; j++) table.stepped(batchRows[j], qOffset[idx[j]]);
    // The last event by arrival order decides the checkpoint offset.
    for (let j = n - 1; j >= 0; j--) {
      const off = qOffset[idx[j]];
      if (off === off) {
        if (!(this.st.offset >= off)) this.st.offset = off;
        break;
      }
    }
  }

  /** Per-event outputs of queued events `idx[0..n)`: one fresh buffer per sub-batch, each output a view of its own range. */
  private stepRows(n: number, idx: Int32Array, x: Float32Array): void {
    const { H, table, batchRows } = this;
    const yLen = this.step.yLen;
    // Far cheaper than an allocation per output; nothing writes these buffers again.
    const yBuf = new Float32Array(n * yLen);
    const hBuf = this.o.emit === 'all' ? new Float32Array(n * H) : null;
    this.stepQueued(n, idx, x, yBuf, hBuf);
    const qOffset = this.queue.offset;
    const version = this.model.version;
    const outs = this.outs;
    for (let j = 0; j < n; j++) {
      const i = idx[j];
      const off = qOffset[i];
      // One object shape for every output keeps downstream code monomorphic.
      outs[i] = {
        key: table.keyOf(batchRows[j]),
        // The constructor makes a view about twice as fast as subarray (measured, V8 11).
        y: new Float32Array(yBuf.buffer, j * yLen * 4, yLen),
        h: hBuf === null ? undefined : new Float32Array(hBuf.buffer, j * H * 4, H),
        offset: off === off ? off : undefined,
        modelVersion: version,
      };
    }
  }

  /** Zeroes a key's state now, or right after its queued events have stepped. */
  reset(key: K): void {
    this.table.reset(key);
  }

  /** A key's state as a JSON-safe snapshot, or undefined if the key is not held. */
  snapshot(key: K): StateSnapshot | undefined {
    const row = this.table.rowOf(key);
    return row === undefined ? undefined : this.rows.snapshot(row, this.model.config.cell);
  }

  /** Writes a snapshot into a key's row (creating the key if needed). Throws `SEQ_STATE_FORMAT` if it does not fit. */
  restore(key: K, snapshot: StateSnapshot): void {
    // Check before touching the table so a bad snapshot changes nothing.
    const probe = this.model.createState(1);
    restoreState(this.model, probe, snapshot);
    let row = this.table.rowOf(key);
    if (row === undefined) row = this.table.insert(key);
    this.table.touch(row);
    this.rows.write(row, probe, 0);
  }

  /**
   * Removes a key, reporting it with reason `'deleted'`; one with queued events goes once they
   * have stepped and been emitted (as a reset waits), and a new event for it meanwhile starts
   * afresh. Returns whether it was held.
   */
  delete(key: K): boolean {
    return this.table.delete(key);
  }

  /** Evicts keys idle longer than `idleTtlMs` (oldest first). */
  evictIdle(): void {
    this.table.evictIdle();
  }

  /** Counters and sizes. */
  stats(): KeyedStats {
    const { rows, table } = this;
    const capacity = rows.capacity;
    const rowBytes = rows.rowFloats * 4;
    return {
      keys: table.size,
      capacity,
      stateBytesPerKey: rowBytes,
      slabBytes: rows.bytes() + (table.bookkeepingBytesPerRow + this.queue.scratchBytesPerRow) * capacity,
      events: this.st.events,
      steps: this.st.steps,
      rejected: this.admission.rejected,
      evicted: { ...table.evicted },
      stepMs: this.st.stepMs,
      flushMs: this.st.flushMs,
      kernelMemoryBytes: this.step.kernelMemoryBytes(),
      engine: this.step.kind,
    };
  }

  /** A checkpoint of every key (see `captureKeyed`); queued events come after its offset and are replayed. */
  capture(includeModel: boolean): KeyedCheckpoint<K> {
    return captureKeyed(this.table, this.model, { offset: this.st.offset, events: this.st.events }, includeModel);
  }

  /** Loads a {@link capture} result (keys in LRU order). Throws `SEQ_STATE_FORMAT` if it does not fit the model. */
  load(cp: KeyedCheckpoint<K>): void {
    const progress = loadKeyed(this.table, this.model, cp);
    if (progress.offset !== null) this.st.offset = progress.offset;
    this.st.events = progress.events;
  }

  /** Drops every buffer (teardown). */
  release(): void {
    this.table.release();
    this.queue.clear();
    this.outs = [];
  }

}
