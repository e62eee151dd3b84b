import type { StepEngine } from '../../kernels/autoStepper.js';
import type { RecurrentModel } from '../../cells/model.js';
import { restoreState, type StateSnapshot } from '../../cells/stateSnapshot.js';
import type { ModelState } from '../../cells/types.js';
import { validateInput } from '../../cells/validateInput.js';
import { InvalidInputError } from '../../errors.js';
import { captureKeyed, loadKeyed, type KeyedCheckpoint } from './keyedCheckpoint.js';
import { KeyTable, type Eviction, type EvictionReason } from './keyTable.js';
import { PendingQueue } from './pendingQueue.js';
import { KeyedStep } from './keyedStep.js';
import type { KeyedRowStore } from './stateRows.js';

export type { Eviction, EvictionReason } from './keyTable.js';

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

/** Counters and sizes of a keyed table, see `KeyedRecurrentControl.stats`. */
export interface KeyedStats {
  /** Keys held now. */
  keys: number;
  /** Rows allocated in the state slab (grows by 1.5x up to `maxKeys`). */
  capacity: number;
  /** Bytes of hidden state per key (`(1 or 2) * numLayers * hiddenSize * 4`). */
  stateBytesPerKey: number;
  /** Bytes held by the slab (key rows plus the maxBatch-row batch area) and the per-row bookkeeping arrays (excludes the key Map). */
  slabBytes: number;
  /** Events stepped. */
  events: number;
  /** Calls to the fused stepper (sub-batches). */
  steps: number;
  /** Events rejected as bad input. */
  rejected: number;
  /** Keys evicted, by reason. */
  evicted: Record<EvictionReason, number>;
  /** With `profile: true`: milliseconds stepping sub-batches (kernel, head, copying the new top rows out), and in whole flushes. */
  stepMs: number;
  flushMs: number;
  /** Bytes of the WebAssembly memory the rows live in (with the kernel's weights and batch areas; 0 with plain-array state): outside `process.memoryUsage().arrayBuffers`. */
  kernelMemoryBytes: number;
  /** Engine of the last sub-batch: `'wasm-simd'` (state in kernel memory, stepped by index), `'onnxruntime'`, or with plain-array state `'js'`/`'wasm-simd'`/`'wasm-simd+onnxruntime'`. */
  engine: string;
}

/** Options of {@link KeyedSlab} (already validated by the operator). */
export interface KeyedSlabOptions<K> {
  maxKeys: number;
  maxBatch: number;
  idleTtlMs: number;
  emit: 'output' | 'hidden' | 'all';
  clock: () => number;
  profile: boolean;
  /** Step engine; undefined = `SEQSTREAM_ENGINE`, else auto. */
  engine?: StepEngine;
  initialState?: (key: K) => StateSnapshot | undefined;
  onEvict?: (eviction: Eviction<K>) => void;
  onInvalid: (error: InvalidInputError, event: unknown) => void;
  output: (out: KeyedOutput<K>) => void;
}

const NO_OFFSET = Number.NaN;

/**
 * The state table behind `recurrentByKey`, from three parts: the {@link KeyTable} (keys to rows,
 * LRU, idle TTL, deferred resets and deletes) over the rows of a {@link KeyedStep} (state in the
 * kernel's memory, stepped by index), the {@link PendingQueue} (validated inputs, cut into
 * sub-batches) and checkpointing (`keyedCheckpoint.ts`). {@link add} validates and queues;
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
  private readonly I: number;
  private readonly H: number;
  private readonly rows: KeyedRowStore;
  private readonly table: KeyTable<K>;
  private readonly queue: PendingQueue;
  private readonly batchRows: Int32Array;
  private readonly batchReset: Uint8Array;
  private outs: (KeyedOutput<K> | undefined)[] = [];
  private emitting = false;
  private readonly stepSubBatch = (n: number, idx: Int32Array, x: Float32Array): void => this.stepRows(n, idx, x);

  /** Offset of the last event stepped (arrival order), NaN if none carried one. */
  offset = NO_OFFSET;
  private st = { events: 0, steps: 0, rejected: 0, stepMs: 0, flushMs: 0 };

  constructor(model: RecurrentModel, options: KeyedSlabOptions<K>) {
    this.model = model;
    this.o = options;
    const { inputSize, hiddenSize, cell } = model.config;
    this.I = inputSize;
    this.H = hiddenSize;
    const B = options.maxBatch;
    this.step = new KeyedStep(model, B, options.emit, options.engine);
    this.rows = this.step.rows;
    this.batchRows = new Int32Array(B);
    this.batchReset = new Uint8Array(B);
    this.table = new KeyTable<K>(this.rows, { maxKeys: options.maxKeys, idleTtlMs: options.idleTtlMs, clock: options.clock, cell, onEvict: options.onEvict });
    this.queue = new PendingQueue(inputSize, B);
  }

  /** Number of keys held. */
  get size(): number {
    return this.table.size;
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
   * Validates and queues one event; returns true when the queue reached `maxBatch` (the caller
   * should flush). Bad input goes to `onInvalid` and nothing else changes.
   */
  add(event: unknown): boolean {
    const ev = event as { key?: K; x?: unknown; reset?: unknown; offset?: unknown } | null;
    if (ev === null || typeof ev !== 'object') {
      return this.reject(new InvalidInputError('SEQ_INPUT_TYPE', `Keyed event must be an object { key, x }, received ${ev === null ? 'null' : typeof ev}`, { received: typeof ev }), event);
    }
    const key = ev.key;
    if (key === undefined || key === null) {
      return this.reject(new InvalidInputError('SEQ_KEYED_MISSING_KEY', `Keyed event has no 'key' (received ${String(key)})`, {}), event);
    }
    const x = ev.x as ArrayLike<number> | undefined;
    const I = this.I;
    const off = ev.offset;
    if (off !== undefined && (typeof off !== 'number' || !Number.isFinite(off))) {
      return this.reject(new InvalidInputError('SEQ_KEYED_OFFSET', `Keyed event 'offset' must be a finite number, received ${String(off)}`, { key }), event);
    }
    // Copy the input into the pending queue while checking it: one pass, no allocation.
    const p = this.queue.reserve();
    const base = p * I;
    const px = this.queue.x;
    let ok = x !== undefined && x !== null && x.length === I && (ArrayBuffer.isView(x) || Array.isArray(x));
    if (ok) {
      const typed = ArrayBuffer.isView(x);
      for (let i = 0; i < I; i++) {
        const v = (x as ArrayLike<number>)[i];
        if ((!typed && typeof v !== 'number') || v - v !== 0) {
          ok = false;
          break;
        }
        px[base + i] = v;
      }
    }
    if (!ok) {
      try {
        validateInput(x, I, 'x');
      } catch (e) {
        if (e instanceof InvalidInputError) {
          // Name the key: the side channel is per key.
          return this.reject(new InvalidInputError(e.code, `${e.message} (key ${String(key)})`, { ...e.details, key }), event);
        }
        throw e;
      }
      return this.reject(new InvalidInputError('SEQ_INPUT_TYPE', `Input 'x' is not a numeric vector (key ${String(key)})`, { key }), event);
    }
    let row = this.table.rowOf(key);
    if (row === undefined) {
      // Resolve the new key's initial state before touching the table: a bad one is this key's
      // problem only, reported on the side channel; the table and every other key are untouched.
      let init: ModelState | null;
      try {
        init = this.initialStateOf(key);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        return this.reject(new InvalidInputError('SEQ_KEYED_INITIAL_STATE', `initialState(${String(key)}) failed: ${why}`, { key, cause: e }), event);
      }
      row = this.table.insert(key);
      if (init) this.rows.write(row, init, 0);
    }
    this.table.touch(row);
    const waitingReset = this.table.queued(row);
    this.queue.commit(row, ev.reset === true || waitingReset, off as number | undefined);
    return this.queue.length >= this.o.maxBatch;
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
      const t0 = this.o.profile ? performance.now() : 0;
      this.table.evictIdle();
      const m = Math.min(queue.length, this.o.maxBatch);
      if (this.outs.length < m) this.outs.length = m;
      queue.forEachSubBatch(m, this.rows.capacity, this.stepSubBatch);
      // Drop the chunk from the queue before emitting: emissions may queue more events.
      queue.drop(m);
      if (this.o.profile) this.st.flushMs += performance.now() - t0;
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

  /** Steps the rows of queued events `idx[0..n)` (distinct), builds their outputs. */
  private stepRows(n: number, idx: Int32Array, x: Float32Array): void {
    const { H, table, batchRows, batchReset } = this;
    const { row: qRow, reset: qReset, offset: qOffset } = this.queue;
    for (let j = 0; j < n; j++) {
      const i = idx[j];
      batchRows[j] = qRow[i];
      batchReset[j] = qReset[i];
    }
    // One fused step for the whole sub-batch; outputs in fresh buffers, each output a view of its
    // own range (far cheaper than an allocation per output; nothing writes these buffers again).
    const t0 = this.o.profile ? performance.now() : 0;
    const { y: yBuf, yLen, h: hBuf } = this.step.run(batchRows, batchReset, n, x);
    if (this.o.profile) this.st.stepMs += performance.now() - t0;
    this.st.steps++;
    this.st.events += n;
    const version = this.model.version;
    const outs = this.outs;
    for (let j = 0; j < n; j++) {
      const i = idx[j];
      const row = batchRows[j];
      const off = qOffset[i];
      const hasOff = off === off;
      // One object shape for every output keeps downstream code monomorphic.
      outs[i] = {
        key: table.keyOf(row),
        y: new Float32Array(yBuf, j * yLen * 4, yLen),
        h: hBuf === null ? undefined : new Float32Array(hBuf, j * H * 4, H),
        offset: hasOff ? off : undefined,
        modelVersion: version,
      };
      table.stepped(row, off);
    }
    // The last event by arrival order decides the checkpoint offset.
    for (let j = n - 1; j >= 0; j--) {
      const off = qOffset[idx[j]];
      if (off === off) {
        if (!(this.offset >= off)) this.offset = off;
        break;
      }
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
      rejected: this.st.rejected,
      evicted: { ...table.evicted },
      stepMs: this.st.stepMs,
      flushMs: this.st.flushMs,
      kernelMemoryBytes: this.step.kernelMemoryBytes(),
      engine: this.step.kind,
    };
  }

  /** A checkpoint of every key (see `captureKeyed`); queued events come after its offset and are replayed. */
  capture(includeModel: boolean): KeyedCheckpoint<K> {
    return captureKeyed(this.table, this.model, { offset: this.offset, events: this.st.events }, includeModel);
  }

  /** Loads a {@link capture} result (keys in LRU order). Throws `SEQ_STATE_FORMAT` if it does not fit the model. */
  load(cp: KeyedCheckpoint<K>): void {
    const progress = loadKeyed(this.table, this.model, cp);
    if (progress.offset !== null) this.offset = progress.offset;
    this.st.events = progress.events;
  }

  /** Drops every buffer (teardown). */
  release(): void {
    this.table.release();
    this.queue.clear();
    this.outs = [];
  }

  private reject(error: InvalidInputError, event: unknown): boolean {
    this.st.rejected++;
    this.o.onInvalid(error, event);
    return false;
  }

  /** The validated initial state of a new key (null: zeros). Throws if `initialState` throws or does not fit. */
  private initialStateOf(key: K): ModelState | null {
    const init = this.o.initialState ? this.o.initialState(key) : undefined;
    if (init === undefined) return null;
    const probe = this.model.createState(1);
    restoreState(this.model, probe, init);
    return probe;
  }
}
