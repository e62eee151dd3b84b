import type { StepEngine } from '../../kernels/autoStepper.js';
import type { RecurrentModel } from '../../cells/model.js';
import { restoreState, type StateSnapshot } from '../../cells/stateSnapshot.js';
import type { ModelState } from '../../cells/types.js';
import { validateInput } from '../../cells/validateInput.js';
import { InvalidInputError } from '../../errors.js';
import { captureKeyed, loadKeyed, type KeyedCheckpoint } from './keyedCheckpoint.js';
import { KeyTable, type Eviction } from './keyTable.js';
import { PendingQueue, type StepSubBatch } from './pendingQueue.js';
import { KeyedStep } from './keyedStep.js';
import type { KeyedStats } from './keyedStats.js';
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
  /** Closed key set: a new key outside it is rejected (`SEQ_KEYED_UNKNOWN_KEY`). */
  knownKeys?: ReadonlySet<K>;
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

  // The last stepHeld call: its rows' token (HeldRows.token), row count and the LRU stamp after it.
  private heldToken = -1;
  private heldN = 0;
  private heldStamp = -1;

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
   * Validates and queues one event; returns true when the queue reached `maxBatch` (the caller
   * should flush). Bad input goes to `onInvalid` and nothing else changes.
   */
  add(event: unknown): boolean {
    const ev = event as { key?: K; x?: unknown; reset?: unknown; offset?: unknown } | null;
    if (ev === null || typeof ev !== 'object') {
      return this.rejectInput(new InvalidInputError('SEQ_INPUT_TYPE', `Keyed event must be an object { key, x }, received ${ev === null ? 'null' : typeof ev}`, { received: typeof ev }), event);
    }
    const key = ev.key as K;
    const off = ev.offset as number | undefined;
    if (!this.checkKeyAndOffset(key, off, event, -1)) return false;
    const x = ev.x as ArrayLike<number> | undefined;
    const vector = x !== undefined && x !== null && x.length === this.I && (ArrayBuffer.isView(x) || Array.isArray(x));
    if (!this.queueInput(vector ? (x as ArrayLike<number>) : null, 0, ArrayBuffer.isView(x), x, key, event, -1)) return false;
    return this.admit(key, ev.reset === true, off, event, -1) && this.queue.length >= this.o.maxBatch;
  }

  /**
   * Checks an input's key (not null/undefined: `SEQ_KEYED_MISSING_KEY`) and offset (a finite number
   * or undefined: `SEQ_KEYED_OFFSET`); a bad one is rejected. `blockRow` >= 0 names the row of a block.
   */
  checkKeyAndOffset(key: K | undefined | null, off: unknown, input: unknown, blockRow: number): boolean {
    if (key === undefined || key === null) {
      return this.rejectInput(new InvalidInputError('SEQ_KEYED_MISSING_KEY', `Keyed event has no 'key' (received ${String(key)})${rowNote(blockRow)}`, blockRow >= 0 ? { row: blockRow } : {}), input, blockRow);
    }
    if (off !== undefined && (typeof off !== 'number' || !Number.isFinite(off))) {
      return this.rejectInput(new InvalidInputError('SEQ_KEYED_OFFSET', `Keyed event 'offset' must be a finite number, received ${String(off)}${rowNote(blockRow)}`, rowDetails(key, blockRow)), input, blockRow);
    }
    return true;
  }

  /**
   * Copies `inputSize` values of `src` from `from` into the next queue slot while checking them
   * (one pass, no allocation); `src` null, or a value that is not a finite number, rejects the
   * input with the code `validateInput` gives `original` (`SEQ_INPUT_SHAPE`, `SEQ_INPUT_NON_FINITE`,
   * `SEQ_INPUT_TYPE`; undefined: the `inputSize` values of `src` from `from`), naming the key. The
   * slot is used only once {@link admit} commits it.
   */
  queueInput(src: ArrayLike<number> | null, from: number, typed: boolean, original: unknown, key: K, input: unknown, blockRow: number): boolean {
    if (src !== null) {
      const base = this.queue.reserve() * this.I; // may grow the queue: take its x after
      // Separate loops per source kind keep each one's element access monomorphic.
      const ok = src instanceof Float32Array ? copyFiniteF32(src, from, this.queue.x, base, this.I) : copyFinite(src, from, typed, this.queue.x, base, this.I);
      if (ok) return true;
    }
    return this.rejectVector(src, from, original, key, input, blockRow);
  }

  /** Rejects a vector {@link queueInput} could not take, with the code `validateInput` gives it. */
  private rejectVector(src: ArrayLike<number> | null, from: number, original: unknown, key: K, input: unknown, blockRow: number): false {
    try {
      validateInput(original === undefined && src !== null ? Array.prototype.slice.call(src, from, from + this.I) : original, this.I, 'x');
    } catch (e) {
      if (e instanceof InvalidInputError) {
        // Name the key: the side channel is per key.
        return this.rejectInput(new InvalidInputError(e.code, `${e.message} (key ${String(key)}${blockRow >= 0 ? `, block row ${blockRow}` : ''})`, { ...e.details, ...rowDetails(key, blockRow) }), input, blockRow);
      }
      throw e;
    }
    return this.rejectInput(new InvalidInputError('SEQ_INPUT_TYPE', `Input 'x' is not a numeric vector (key ${String(key)}${blockRow >= 0 ? `, block row ${blockRow}` : ''})`, rowDetails(key, blockRow)), input, blockRow);
  }

  /**
   * Queues the input {@link queueInput} wrote for `key`: finds or creates its row (a new key gets
   * `initialState`, or is rejected with `SEQ_KEYED_INITIAL_STATE`), marks it most recently used.
   * Returns whether it was queued.
   */
  admit(key: K, reset: boolean, off: number | undefined, input: unknown, blockRow: number): boolean {
    let row = this.table.rowOf(key);
    if (row === undefined) {
      row = this.newRow(key, input, blockRow);
      if (row < 0) return false;
    }
    this.table.touch(row);
    const waitingReset = this.table.queued(row);
    this.queue.commit(row, reset || waitingReset, off);
    return true;
  }

  /** A row for a key not held (its initial state written), or -1 when the key is rejected (reported). Kept out of {@link admit}, the hot path. */
  private newRow(key: K, input: unknown, blockRow: number): number {
    const known = this.o.knownKeys;
    if (known !== undefined && !known.has(key)) {
      this.rejectInput(new InvalidInputError('SEQ_KEYED_UNKNOWN_KEY', `Key ${String(key)} is not one of the ${known.size} knownKeys${rowNote(blockRow)}`, rowDetails(key, blockRow)), input, blockRow);
      return -1;
    }
    // Resolve the new key's initial state before touching the table: a bad one is this key's
    // problem only, reported on the side channel; the table and every other key are untouched.
    let init: ModelState | null;
    try {
      init = this.initialStateOf(key);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.rejectInput(new InvalidInputError('SEQ_KEYED_INITIAL_STATE', `initialState(${String(key)}) failed: ${why}${rowNote(blockRow)}`, { ...rowDetails(key, blockRow), cause: e }), input, blockRow);
      return -1;
    }
    const row = this.table.insert(key);
    if (init) this.rows.write(row, init, 0);
    return row;
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

  /**
   * Steps `n` distinct rows of held keys with no queued events straight from the caller's
   * buffers (the block fast path: no queue slot, no per-row check; the caller checked the
   * offsets, `offsets[from + j]`). The inputs `x` are staged and checked as a whole
   * (`KeyedStep.stage`): false, with nothing changed, when one is not finite. Then the same steps
   * as queuing and stepping the rows: each touched and counted as queued in order, idle keys
   * evicted (these rows are safe: they have work), the step, then each row booked as stepped
   * (offset, and a reset or delete that an `onEvict` callback asked for meanwhile). `token` is
   * the `HeldRows.token` of `rows`: the same rows again on an unchanged LRU order skip the
   * touches and the booking, which would change nothing.
   */
  stepHeld(rows: Int32Array, reset: Uint8Array, n: number, x: Float32Array, y: Float32Array, h: Float32Array | null, offsets: ArrayLike<number> | undefined, from: number, token: number): boolean {
    const t0 = this.o.profile ? performance.now() : 0;
    let staged = this.step.stage(x, n);
    if (staged === null) return false;
    const table = this.table;
    // The same rows as the last call, on an LRU order nothing changed since and with no idle
    // clock: touching them again would leave every list and counter as it is (and between the
    // touch and the booking below no callback can run), so the per-row bookkeeping is skipped.
    const again = token === this.heldToken && from === 0 && n === this.heldN && table.lruStamp === this.heldStamp && this.o.idleTtlMs === Infinity;
    if (!again) {
      for (let j = 0; j < n; j++) {
        const r = rows[j];
        table.touch(r);
        table.queued(r); // no reset waits: the row had no queued events
      }
      const generation = table.generation;
      table.evictIdle();
      // An onEvict callback that added a key may have moved kernel memory: stage again.
      if (table.generation !== generation) staged = this.step.stage(x, n) as Float32Array;
    }
    const t1 = this.o.profile ? performance.now() : 0;
    this.step.run(rows, reset, n, staged, y, h);
    if (this.o.profile) this.st.stepMs += performance.now() - t1;
    this.st.steps++;
    this.st.events += n;
    if (offsets === undefined) {
      if (!again) for (let j = 0; j < n; j++) table.stepped(rows[j], NO_OFFSET);
    } else {
      if (again) for (let j = 0; j < n; j++) table.steppedOffset(rows[j], offsets[from + j]);
      else for (let j = 0; j < n; j++) table.stepped(rows[j], offsets[from + j]);
      const off = offsets[from + n - 1];
      if (!(this.offset >= off)) this.offset = off;
    }
    this.heldToken = from === 0 ? token : -1;
    this.heldN = n;
    this.heldStamp = table.lruStamp;
    if (this.o.profile) this.st.flushMs += performance.now() - t0;
    return true;
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
        if (!(this.offset >= off)) this.offset = off;
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

  /** Reports a rejected input (counted in `stats().rejected`); with `blockRow` >= 0 the input is a block and `onInvalid` gets that row of it ({ block, row, key }). */
  rejectInput(error: InvalidInputError, input: unknown, blockRow = -1): false {
    this.st.rejected++;
    this.o.onInvalid(error, blockRow >= 0 ? { block: input, row: blockRow, key: (error.details as { key?: unknown }).key } : input);
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

function rowNote(blockRow: number): string {
  return blockRow >= 0 ? ` (block row ${blockRow})` : '';
}

function rowDetails(key: unknown, blockRow: number): Record<string, unknown> {
  return blockRow >= 0 ? { key, row: blockRow } : { key };
}

/** Copies `n` values of `src` from `from` to `dst` at `at`; false at the first that is not finite. */
function copyFiniteF32(src: Float32Array, from: number, dst: Float32Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const v = src[from + i];
    if (v - v !== 0) return false;
    dst[at + i] = v;
  }
  return true;
}

/** {@link copyFiniteF32} for any array-like (`typed`: its elements are numbers by construction). */
function copyFinite(src: ArrayLike<number>, from: number, typed: boolean, dst: Float32Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const v = src[from + i];
    if ((!typed && typeof v !== 'number') || v - v !== 0) return false;
    dst[at + i] = v;
  }
  return true;
}
