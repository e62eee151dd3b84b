import { createFusedStepper, type FusedStepper } from '../../kernels/fusedStepper.js';
import type { RecurrentModel } from '../../cells/model.js';
import { restoreState, type StateSnapshot } from '../../cells/stateSnapshot.js';
import type { ModelState } from '../../cells/types.js';
import { validateInput } from '../../cells/validateInput.js';
import { InvalidInputError, ModelFormatError, SeqstreamError } from '../../errors.js';
import type { KeyedCheckpoint } from '../stateStore.js';

/** Why a key left the table. */
export type EvictionReason = 'lru' | 'idle' | 'deleted';

/** A key that left the table, with its last state so the caller can persist it. */
export interface Eviction<K> {
  key: K;
  reason: EvictionReason;
  /** The key's state when it left (JSON-safe; feed it back with `restore`). */
  snapshot: StateSnapshot;
  /** Source offset of the key's last stepped event, if events carried offsets. */
  offset: number | undefined;
}

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
  /** With `profile: true`: milliseconds inside `stepInPlace`/`headInPlace`, and in whole flushes. */
  stepMs: number;
  flushMs: number;
}

/** Options of {@link KeyedSlab} (already validated by the operator). */
export interface KeyedSlabOptions<K> {
  maxKeys: number;
  maxBatch: number;
  idleTtlMs: number;
  emit: 'output' | 'hidden' | 'all';
  clock: () => number;
  profile: boolean;
  initialState?: (key: K) => StateSnapshot | undefined;
  onEvict?: (eviction: Eviction<K>) => void;
  onInvalid: (error: InvalidInputError, event: unknown) => void;
  output: (out: KeyedOutput<K>) => void;
}

const NO_OFFSET = Number.NaN;

/**
 * The state table behind `recurrentByKey`: one row per key in a slab (one Float32Array per layer
 * for `h` and one for `c`, rows reused through a free list), an LRU list threaded through
 * per-row Int32Arrays, and a pending queue of validated inputs that {@link flush} steps in
 * batches. No RxJS here: the operator owns scheduling and emission.
 */
export class KeyedSlab<K> {
  readonly model: RecurrentModel;
  private readonly stepper: FusedStepper;
  private readonly o: KeyedSlabOptions<K>;
  private readonly I: number;
  private readonly H: number;
  private readonly L: number;
  private readonly O: number;
  private readonly hasC: boolean;

  // Slab and per-row bookkeeping; index = row.
  private capacity = 0;
  // One buffer per layer for h (and c): rows [0, maxBatch) are the batch being stepped, key row r
  // lives at maxBatch + r, so gather/scatter are native copyWithin calls inside one buffer.
  private hSlab: Float32Array[] = [];
  private cSlab: Float32Array[] = [];
  private readonly rowBase: number;
  private rowKey: (K | undefined)[] = [];
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private lastSeen = new Float64Array(0);
  private lastOffset = new Float64Array(0);
  private pendCount = new Int32Array(0);
  private resetNext = new Uint8Array(0);
  private mark = new Int32Array(0);
  private roundCount = new Int32Array(0);
  private freeRows = new Int32Array(0);
  private freeTop = 0;
  private used = 0;
  private lruHead = -1;
  private lruTail = -1;
  private readonly index = new Map<K, number>();

  // Pending queue (grows past maxBatch only while outputs are being emitted).
  private pendCap: number;
  private pendN = 0;
  private pendRow: Int32Array;
  private pendX: Float32Array;
  private pendReset: Uint8Array;
  private pendOffset: Float64Array;
  private pendRound: Int32Array;

  // Batch buffers for one sub-batch of at most maxBatch rows.
  private readonly subX: Float32Array;
  private readonly subY: Float32Array | null;
  private readonly subIdx: Int32Array;
  private readonly batchStates: (ModelState | undefined)[];
  private outs: (KeyedOutput<K> | undefined)[] = [];
  private flushSeq = 0;
  private emitting = false;

  /** Offset of the last event stepped (arrival order), NaN if none carried one. */
  offset = NO_OFFSET;
  private st = { events: 0, steps: 0, rejected: 0, lru: 0, idle: 0, deleted: 0, stepMs: 0, flushMs: 0 };

  constructor(model: RecurrentModel, options: KeyedSlabOptions<K>) {
    this.model = model;
    this.stepper = createFusedStepper(model);
    this.o = options;
    const { inputSize, hiddenSize, numLayers, head } = model.config;
    this.I = inputSize;
    this.H = hiddenSize;
    this.L = numLayers;
    this.O = head ? head.outputSize : 0;
    this.hasC = model.cellDefinition.hasCellState;
    const B = options.maxBatch;
    this.pendCap = B;
    this.pendRow = new Int32Array(B);
    this.pendX = new Float32Array(B * this.I);
    this.pendReset = new Uint8Array(B);
    this.pendOffset = new Float64Array(B);
    this.pendRound = new Int32Array(B);
    this.subX = new Float32Array(B * this.I);
    this.subY = head ? new Float32Array(B * this.O) : null;
    this.subIdx = new Int32Array(B);
    this.rowBase = B * this.H;
    this.batchStates = new Array(B + 1);
    this.grow(Math.min(options.maxKeys, 1024));
  }

  /** Number of keys held. */
  get size(): number {
    return this.used;
  }

  /** Events waiting for {@link flush}. */
  get pending(): number {
    return this.pendN;
  }

  /** Whether `key` has a row. */
  has(key: K): boolean {
    return this.index.has(key);
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    const out: K[] = [];
    for (let r = this.lruHead; r !== -1; r = this.next[r]) out.push(this.rowKey[r] as K);
    return out;
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
    if (this.pendN === this.pendCap) this.growPending();
    const p = this.pendN;
    const base = p * I;
    const px = this.pendX;
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
    let row = this.index.get(key);
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
      row = this.insert(key);
      if (init) this.writeRow(row, init, 0);
    }
    this.touch(row);
    this.pendRow[p] = row;
    let reset = ev.reset === true ? 1 : 0;
    if (this.resetNext[row] === 1) {
      reset = 1;
      this.resetNext[row] = 0;
    }
    this.pendReset[p] = reset;
    this.pendOffset[p] = off === undefined ? NO_OFFSET : off;
    this.pendCount[row]++;
    this.pendN = p + 1;
    return this.pendN >= this.o.maxBatch;
  }

  /**
   * Steps every pending event, at most `maxBatch` rows per stepper call and each key at most
   * once per call, then emits the outputs in arrival order. Re-entrant calls (from inside an
   * emission) return at once; the outer call picks up what they queued.
   */
  flush(): void {
    if (this.emitting) return;
    while (this.pendN > 0) {
      const t0 = this.o.profile ? performance.now() : 0;
      this.evictIdle();
      const m = Math.min(this.pendN, this.o.maxBatch);
      this.stepChunk(m);
      // Drop the chunk from the queue before emitting: emissions may queue more events.
      const rest = this.pendN - m;
      if (rest > 0) {
        this.pendRow.copyWithin(0, m, this.pendN);
        this.pendX.copyWithin(0, m * this.I, this.pendN * this.I);
        this.pendReset.copyWithin(0, m, this.pendN);
        this.pendOffset.copyWithin(0, m, this.pendN);
      }
      this.pendN = rest;
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
    }
  }

  private stepChunk(m: number): void {
    const seq = ++this.flushSeq;
    const { pendRow, pendRound, mark, roundCount } = this;
    let maxRound = 0;
    for (let i = 0; i < m; i++) {
      const row = pendRow[i];
      if (mark[row] !== seq) {
        mark[row] = seq;
        roundCount[row] = 0;
        pendRound[i] = 0;
      } else {
        const r = ++roundCount[row];
        pendRound[i] = r;
        if (r > maxRound) maxRound = r;
      }
    }
    if (this.outs.length < m) this.outs.length = m;
    if (maxRound === 0) {
      // Common case: every key once, the queue is already the contiguous batch input.
      const idx = this.subIdx;
      for (let i = 0; i < m; i++) idx[i] = i;
      this.stepRows(m, this.pendX.subarray(0, m * this.I));
    } else {
      // A key twice: successive sub-batches by occurrence number keep per-key order.
      for (let r = 0; r <= maxRound; r++) {
        let n = 0;
        for (let i = 0; i < m; i++) if (pendRound[i] === r) this.subIdx[n++] = i;
        this.stepRows(n, this.subXFrom(n));
      }
    }
  }

  // Gathers the rows of pending events subIdx[0..n) into a batch state, steps it, scatters back.
  private subXFrom(n: number): Float32Array {
    const I = this.I;
    const sx = this.subX;
    for (let j = 0; j < n; j++) {
      const i = this.subIdx[j];
      sx.set(this.pendX.subarray(i * I, i * I + I), j * I);
    }
    return sx.subarray(0, n * I);
  }

  private stepRows(n: number, x: Float32Array): void {
    const { H, L, hasC } = this;
    const state = this.batchState(n);
    const idx = this.subIdx;
    // 1. Gather each event's key row into batch row j (zeroed if the event asks for a reset).
    const { hSlab, cSlab, rowBase } = this;
    for (let j = 0; j < n; j++) {
      const i = idx[j];
      const src = rowBase + this.pendRow[i] * H;
      const dst = j * H;
      const zero = this.pendReset[i] === 1;
      for (let k = 0; k < L; k++) {
        if (zero) hSlab[k].fill(0, dst, dst + H);
        else hSlab[k].copyWithin(dst, src, src + H);
        if (hasC) {
          if (zero) cSlab[k].fill(0, dst, dst + H);
          else cSlab[k].copyWithin(dst, src, src + H);
        }
      }
    }
    // 2. One fused step for the whole sub-batch.
    const t0 = this.o.profile ? performance.now() : 0;
    const top = this.stepper.stepInPlace(state, x);
    let y: Float32Array | null = null;
    if (this.subY && this.o.emit !== 'hidden') {
      y = this.subY.subarray(0, n * this.O);
      this.stepper.headInPlace(state, y);
    }
    if (this.o.profile) this.st.stepMs += performance.now() - t0;
    this.st.steps++;
    this.st.events += n;
    // 3. Scatter rows back to the slab and build the outputs.
    const O = this.O;
    const version = this.model.version;
    const emit = this.o.emit;
    const { pendRow, pendOffset, lastOffset, rowKey, outs, pendCount, resetNext } = this;
    // One fresh buffer per sub-batch; each output gets a view of its own range (far cheaper
    // than an allocation per output). Outputs are independent: nothing writes these buffers again.
    const yLen = y !== null ? O : H;
    const yBuf = (y !== null ? y.slice() : top.slice(0, n * H)).buffer;
    const hBuf = emit === 'all' ? top.slice(0, n * H).buffer : null;
    for (let j = 0; j < n; j++) {
      const i = idx[j];
      const row = pendRow[i];
      const src = j * H;
      for (let k = 0; k < L; k++) {
        hSlab[k].copyWithin(rowBase + row * H, src, src + H);
        if (hasC) cSlab[k].copyWithin(rowBase + row * H, src, src + H);
      }
      const yv = new Float32Array(yBuf, j * yLen * 4, yLen);
      const hv = hBuf === null ? undefined : new Float32Array(hBuf, src * 4, H);
      const off = pendOffset[i];
      const hasOff = off === off;
      if (hasOff) lastOffset[row] = off;
      // One object shape for every output keeps downstream code monomorphic.
      outs[i] = { key: rowKey[row] as K, y: yv, h: hv, offset: hasOff ? off : undefined, modelVersion: version };
      if (--pendCount[row] === 0 && resetNext[row] === 1) {
        // A reset (from the reset stream) that waited for this key's queued events.
        resetNext[row] = 0;
        this.zeroRow(row);
      }
    }
    // The last event by arrival order decides the checkpoint offset.
    for (let j = n - 1; j >= 0; j--) {
      const off = this.pendOffset[idx[j]];
      if (off === off) {
        if (!(this.offset >= off)) this.offset = off;
        break;
      }
    }
  }

  private batchState(n: number): ModelState {
    let s = this.batchStates[n];
    if (!s) {
      const H = this.H;
      s = {
        batch: n,
        h: this.hSlab.map((b) => b.subarray(0, n * H)),
        c: this.hasC ? this.cSlab.map((b) => b.subarray(0, n * H)) : null,
      };
      this.batchStates[n] = s;
    }
    return s;
  }

  /** Zeroes a key's state now, or right after its queued events have stepped. */
  reset(key: K): void {
    const row = this.index.get(key);
    if (row === undefined) return;
    if (this.pendCount[row] > 0) this.resetNext[row] = 1;
    else this.zeroRow(row);
  }

  /** A key's state as a JSON-safe snapshot, or undefined if the key is not held. */
  snapshot(key: K): StateSnapshot | undefined {
    const row = this.index.get(key);
    return row === undefined ? undefined : this.snapshotRow(row);
  }

  /** Writes a snapshot into a key's row (creating the key if needed). Throws `SEQ_STATE_FORMAT` if it does not fit. */
  restore(key: K, snapshot: StateSnapshot): void {
    // Check before touching the table so a bad snapshot changes nothing.
    const probe = this.model.createState(1);
    restoreState(this.model, probe, snapshot);
    let row = this.index.get(key);
    if (row === undefined) row = this.insert(key);
    this.touch(row);
    this.writeRow(row, probe, 0);
  }

  /** Removes a key, reporting it with reason `'deleted'`. Returns whether it was held. */
  delete(key: K): boolean {
    const row = this.index.get(key);
    if (row === undefined) return false;
    this.evict(row, 'deleted');
    return true;
  }

  /** Evicts keys idle longer than `idleTtlMs` (oldest first). */
  evictIdle(): void {
    const ttl = this.o.idleTtlMs;
    if (ttl === Infinity || this.lruHead === -1) return;
    const limit = this.o.clock() - ttl;
    while (this.lruHead !== -1 && this.lastSeen[this.lruHead] <= limit && this.pendCount[this.lruHead] === 0) {
      this.evict(this.lruHead, 'idle');
    }
  }

  /** Counters and sizes. */
  stats(): KeyedStats {
    const rowBytes = (this.hasC ? 2 : 1) * this.L * this.H * 4;
    // Per row: slab + prev,next,pendCount,mark,roundCount,free (4 B each) + lastSeen,lastOffset (8 B) + resetNext (1 B).
    const perRow = rowBytes + 6 * 4 + 2 * 8 + 1;
    return {
      keys: this.used,
      capacity: this.capacity,
      stateBytesPerKey: rowBytes,
      slabBytes: perRow * this.capacity + rowBytes * this.o.maxBatch,
      events: this.st.events,
      steps: this.st.steps,
      rejected: this.st.rejected,
      evicted: { lru: this.st.lru, idle: this.st.idle, deleted: this.st.deleted },
      stepMs: this.st.stepMs,
      flushMs: this.st.flushMs,
    };
  }

  /**
   * Copies every key's state (least recently used first), the model and the offset of the last
   * stepped event. Queued events are not included: they come after `offset` and are replayed.
   */
  capture(includeModel: boolean): KeyedCheckpoint<K> {
    const { H, L, hasC } = this;
    const rowFloats = (hasC ? 2 : 1) * L * H;
    const keys: K[] = [];
    const state = new Float32Array(this.used * rowFloats);
    let n = 0;
    for (let r = this.lruHead; r !== -1; r = this.next[r]) {
      keys.push(this.rowKey[r] as K);
      const base = n * rowFloats;
      for (let k = 0; k < L; k++) {
        const at = this.rowBase + r * H;
        state.set(this.hSlab[k].subarray(at, at + H), base + k * H);
        if (hasC) state.set(this.cSlab[k].subarray(at, at + H), base + (L + k) * H);
      }
      n++;
    }
    const { cell } = this.model.config;
    return {
      format: 'seqstream-keyed-checkpoint',
      version: 1,
      offset: this.offset === this.offset ? this.offset : null,
      events: this.st.events,
      cell,
      hiddenSize: H,
      numLayers: L,
      keys,
      state,
      modelVersion: this.model.version,
      model: includeModel ? this.model.toJSON() : null,
    };
  }

  /** Loads a {@link capture} result (keys in LRU order). Throws `SEQ_STATE_FORMAT` if it does not fit the model. */
  load(cp: KeyedCheckpoint<K>): void {
    const { H, L, hasC } = this;
    const rowFloats = (hasC ? 2 : 1) * L * H;
    checkCheckpointFits(this.model, cp);
    for (let n = 0; n < cp.keys.length; n++) {
      const key = cp.keys[n];
      let row = this.index.get(key);
      if (row === undefined) row = this.insert(key);
      this.touch(row);
      const base = n * rowFloats;
      for (let k = 0; k < L; k++) {
        const at = this.rowBase + row * H;
        this.hSlab[k].set(cp.state.subarray(base + k * H, base + k * H + H), at);
        if (hasC) this.cSlab[k].set(cp.state.subarray(base + (L + k) * H, base + (L + k) * H + H), at);
      }
    }
    if (cp.offset !== null && cp.offset !== undefined) this.offset = cp.offset;
    this.st.events = cp.events;
  }

  /** Drops every buffer (teardown). */
  release(): void {
    this.index.clear();
    this.hSlab = [];
    this.cSlab = [];
    this.rowKey = [];
    this.outs = [];
    this.capacity = 0;
    this.used = 0;
    this.pendN = 0;
    this.lruHead = this.lruTail = -1;
  }

  // ---- rows, LRU, slab growth ----

  private reject(error: InvalidInputError, event: unknown): boolean {
    this.st.rejected++;
    this.o.onInvalid(error, event);
    return false;
  }

  private insert(key: K): number {
    if (this.used >= this.o.maxKeys) {
      // The least recently used key without queued events leaves.
      let victim = this.lruHead;
      while (victim !== -1 && this.pendCount[victim] > 0) victim = this.next[victim];
      if (victim === -1) {
        throw new SeqstreamError('SEQ_KEYED_FULL', `All ${this.o.maxKeys} keys have queued events; raise maxKeys`, { maxKeys: this.o.maxKeys });
      }
      this.evict(victim, 'lru');
    }
    if (this.freeTop === 0) this.grow(Math.min(this.o.maxKeys, Math.max(this.capacity + 1, Math.ceil(this.capacity * 1.5))));
    const row = this.freeRows[--this.freeTop];
    this.index.set(key, row);
    this.rowKey[row] = key;
    this.used++;
    this.pendCount[row] = 0;
    this.resetNext[row] = 0;
    this.mark[row] = 0;
    this.lastOffset[row] = NO_OFFSET;
    this.prev[row] = this.next[row] = -1;
    this.linkTail(row);
    this.zeroRow(row);
    return row;
  }

  /** The validated initial state of a new key (null: zeros). Throws if `initialState` throws or does not fit. */
  private initialStateOf(key: K): ModelState | null {
    const init = this.o.initialState ? this.o.initialState(key) : undefined;
    if (init === undefined) return null;
    const probe = this.model.createState(1);
    restoreState(this.model, probe, init);
    return probe;
  }

  private evict(row: number, reason: EvictionReason): void {
    const key = this.rowKey[row] as K;
    const snapshot = this.o.onEvict ? this.snapshotRow(row) : undefined;
    const off = this.lastOffset[row];
    this.unlink(row);
    this.index.delete(key);
    this.rowKey[row] = undefined;
    this.freeRows[this.freeTop++] = row;
    this.used--;
    this.st[reason]++;
    if (this.o.onEvict) this.o.onEvict({ key, reason, snapshot: snapshot as StateSnapshot, offset: off === off ? off : undefined });
  }

  private touch(row: number): void {
    this.lastSeen[row] = this.o.idleTtlMs === Infinity ? 0 : this.o.clock();
    if (row === this.lruTail) return;
    this.unlink(row);
    this.linkTail(row);
  }

  private linkTail(row: number): void {
    this.prev[row] = this.lruTail;
    this.next[row] = -1;
    if (this.lruTail !== -1) this.next[this.lruTail] = row;
    else this.lruHead = row;
    this.lruTail = row;
  }

  private unlink(row: number): void {
    const p = this.prev[row];
    const n = this.next[row];
    if (p !== -1) this.next[p] = n;
    else if (this.lruHead === row) this.lruHead = n;
    if (n !== -1) this.prev[n] = p;
    else if (this.lruTail === row) this.lruTail = p;
    this.prev[row] = this.next[row] = -1;
  }

  private zeroRow(row: number): void {
    const H = this.H;
    for (let k = 0; k < this.L; k++) {
      const at = this.rowBase + row * H;
      this.hSlab[k].fill(0, at, at + H);
      if (this.hasC) this.cSlab[k].fill(0, at, at + H);
    }
  }

  private writeRow(row: number, src: ModelState, srcRow: number): void {
    const H = this.H;
    for (let k = 0; k < this.L; k++) {
      const at = this.rowBase + row * H;
      this.hSlab[k].set(src.h[k].subarray(srcRow * H, srcRow * H + H), at);
      if (this.hasC && src.c) this.cSlab[k].set(src.c[k].subarray(srcRow * H, srcRow * H + H), at);
    }
  }

  private snapshotRow(row: number): StateSnapshot {
    const H = this.H;
    const at = this.rowBase + row * H;
    const take = (arrs: Float32Array[]) => arrs.map((a) => Array.from(a.subarray(at, at + H)));
    const snap: StateSnapshot = {
      format: 'seqstream-state',
      version: 1,
      cell: this.model.config.cell,
      hiddenSize: H,
      numLayers: this.L,
      h: take(this.hSlab),
    };
    if (this.hasC) snap.c = take(this.cSlab);
    return snap;
  }

  private grow(newCap: number): void {
    const old = this.capacity;
    if (newCap <= old) return;
    const H = this.H;
    const size = this.rowBase + newCap * H;
    const f32 = (a: Float32Array) => {
      const b = new Float32Array(size);
      b.set(a);
      return b;
    };
    this.hSlab = old === 0 ? Array.from({ length: this.L }, () => new Float32Array(size)) : this.hSlab.map(f32);
    if (this.hasC) this.cSlab = old === 0 ? Array.from({ length: this.L }, () => new Float32Array(size)) : this.cSlab.map(f32);
    this.batchStates.fill(undefined); // their views point at the old buffers
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(newCap);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(newCap);
      b.set(a);
      return b;
    };
    this.prev = i32(this.prev);
    this.next = i32(this.next);
    this.pendCount = i32(this.pendCount);
    this.mark = i32(this.mark);
    this.roundCount = i32(this.roundCount);
    this.lastSeen = f64(this.lastSeen);
    this.lastOffset = f64(this.lastOffset);
    const rn = new Uint8Array(newCap);
    rn.set(this.resetNext);
    this.resetNext = rn;
    // Free list: new rows pushed so that the lowest row is handed out first.
    const free = new Int32Array(newCap);
    free.set(this.freeRows.subarray(0, this.freeTop));
    let top = this.freeTop;
    for (let r = newCap - 1; r >= old; r--) free[top++] = r;
    this.freeRows = free;
    this.freeTop = top;
    this.rowKey.length = newCap;
    this.capacity = newCap;
  }

  private growPending(): void {
    const cap = this.pendCap * 2;
    const grow = <T extends Int32Array | Float32Array | Uint8Array | Float64Array>(a: T, n: number, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.pendRow = grow(this.pendRow, cap, (n) => new Int32Array(n));
    this.pendX = grow(this.pendX, cap * this.I, (n) => new Float32Array(n));
    this.pendReset = grow(this.pendReset, cap, (n) => new Uint8Array(n));
    this.pendOffset = grow(this.pendOffset, cap, (n) => new Float64Array(n));
    this.pendRound = grow(this.pendRound, cap, (n) => new Int32Array(n));
    this.pendCap = cap;
  }
}

/**
 * Throws `ModelFormatError` `SEQ_STATE_FORMAT` unless `cp` is a keyed checkpoint of a model shaped
 * like `model` (cell, H, layers) whose keys and state lengths agree.
 */
export function checkCheckpointFits<K>(model: RecurrentModel, cp: KeyedCheckpoint<K>): void {
  const { cell, hiddenSize: H, numLayers: L } = model.config;
  const rowFloats = (model.cellDefinition.hasCellState ? 2 : 1) * L * H;
  const fail = (why: string): never => {
    throw new ModelFormatError('SEQ_STATE_FORMAT', `Keyed checkpoint does not fit this ${cell} model (L=${L}, H=${H}): ${why}`, { why });
  };
  if (!cp || cp.format !== 'seqstream-keyed-checkpoint' || cp.version !== 1) fail("expected format 'seqstream-keyed-checkpoint' version 1");
  if (cp.cell !== cell || cp.hiddenSize !== H || cp.numLayers !== L) fail(`checkpoint is for ${cp.cell} L=${cp.numLayers} H=${cp.hiddenSize}`);
  if (!Array.isArray(cp.keys) || !(cp.state instanceof Float32Array) || cp.state.length !== cp.keys.length * rowFloats) fail('keys and state lengths disagree');
}
