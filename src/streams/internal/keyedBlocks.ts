import { InvalidInputError } from '../../errors.js';
import type { KeyedSlab } from './keyedSlab.js';
import { allFiniteNumbers, HeldRows } from './heldRows.js';

/**
 * One input of `recurrentByKeyBatch`: a block of rows, row `j` a vector for `keys[j]`.
 *
 * @example
 * ```ts
 * const block: KeyedBlock<string> = { keys: ['a', 'b'], x: new Float32Array([0.1, 0.2, 0.3, 0.4]), reset: [false, true], offsets: [41, 42] };
 * ```
 */
export interface KeyedBlock<K = string | number> {
  /** Whose state each row advances (any Map key except `null`/`undefined`); a key may appear more than once (its rows step in order). */
  keys: ArrayLike<K>;
  /** `keys.length * inputSize` finite numbers, row-major (row `j` at `j * inputSize`); copied on arrival. A `Float32Array` is the fast path. */
  x: Float32Array | ArrayLike<number>;
  /** Row `j` zeroes its key's state before stepping when `reset[j]` is `true` or `1`. Default: no resets. */
  reset?: ArrayLike<boolean | number>;
  /** Source position of each row (e.g. log offsets); passed through and recorded in checkpoints. Default none. */
  offsets?: ArrayLike<number>;
}

/**
 * One output of `recurrentByKeyBatch`: the rows of one input block that stepped, in block order.
 *
 * @example
 * ```ts
 * const { rows, keys, y, yLen } = out;
 * for (let j = 0; j < rows; j++) console.log(keys[j], y.subarray(j * yLen, (j + 1) * yLen));
 * ```
 */
export interface KeyedOutputBlock<K = string | number> {
  /** Rows stepped (the block's rows minus the rejected ones). */
  rows: number;
  /** Key of each output row: the input's own `keys` when every row stepped, else a new array. */
  keys: ArrayLike<K>;
  /** `rows * yLen` floats, row `j` at `j * yLen`: head outputs, or the top layer's `h` with `emit: 'hidden'`. Yours to keep: a fresh buffer per block, never written again. */
  y: Float32Array;
  /** Floats per output row. */
  yLen: number;
  /** The top layer's `h` (`rows * hiddenSize`, same kind of buffer), only with `emit: 'all'`. */
  h: Float32Array | undefined;
  /** The input row each output row came from (`0..rows-1` when none was rejected). */
  inputRows: Int32Array;
  /** The offsets of the stepped rows (the input's own `offsets` when every row stepped), when the block had offsets. */
  offsets: ArrayLike<number> | undefined;
  /** `model.version` the step used. */
  modelVersion: number;
}

/**
 * What `onError` receives as the input of a rejected block row: the block and the row's index.
 *
 * @example
 * ```ts
 * recurrentByKeyBatch(model, { onError: (e, input) => console.warn(e.code, (input as KeyedBlockRow).row) });
 * ```
 */
export interface KeyedBlockRow<K = string | number> {
  block: KeyedBlock<K>;
  /** Index of the rejected row in the block. */
  row: number;
  /** The row's key as given (undefined for `SEQ_KEYED_MISSING_KEY`). */
  key: K | undefined;
}

const isArrayLike = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

/**
 * Steps blocks of keyed rows through a {@link KeyedSlab} (the one `recurrentByKey` uses: same key
 * table, LRU and idle eviction, resident rows, checkpoints and error channel). A block's rows are
 * checked and queued one by one (a bad row is rejected through the slab and the others go on),
 * stepped `maxBatch` at a time as the queue fills (a key repeated within a block steps its rows in
 * order, one sub-batch each), and written straight into the block's output buffer; then the
 * block's output is emitted. A block that arrives while one is being stepped (from a callback or an
 * emission) waits for it, so outputs keep the order of the inputs.
 *
 * @example
 * ```ts
 * const runner = new KeyedBlockRunner(slab, (out) => subscriber.next(out));
 * runner.push({ keys: ['a', 'b'], x: new Float32Array(2 * inputSize) });
 * ```
 */
export class KeyedBlockRunner<K> {
  private busy = false;
  private readonly backlog: unknown[] = [];
  private readonly I: number;
  private readonly H: number;
  private readonly yLen: number;
  private readonly withH: boolean;
  // The block being stepped: its output buffers and the output row of queue slot 0.
  private y: Float32Array = new Float32Array(0);
  private h: Float32Array | null = null;
  private base = 0;
  private scratchY: Float32Array;
  private scratchH: Float32Array | null;
  private readonly held = new HeldRows<K>();
  private readonly fastReset: Uint8Array;
  private readonly sub = (n: number, idx: Int32Array, x: Float32Array): void => this.stepSub(n, idx, x);

  constructor(
    private readonly slab: KeyedSlab<K>,
    private readonly maxBatch: number,
    emitAll: boolean,
    private readonly emit: (out: KeyedOutputBlock<K>) => void,
  ) {
    this.I = slab.model.config.inputSize;
    this.H = slab.model.config.hiddenSize;
    this.yLen = slab.yLen;
    this.withH = emitAll;
    this.scratchY = new Float32Array(0);
    this.scratchH = null;
    this.fastReset = new Uint8Array(maxBatch);
  }

  /** Steps a block and emits its output (after any block already being stepped). Throws only for stream-ending failures. */
  push(block: unknown): void {
    if (this.busy) {
      this.backlog.push(block);
      return;
    }
    this.busy = true;
    try {
      let next: unknown = block;
      for (;;) {
        const out = this.stepBlock(next);
        if (out) this.emit(out);
        if (this.backlog.length === 0) break;
        next = this.backlog.shift();
      }
    } catch (e) {
      this.backlog.length = 0;
      throw e;
    } finally {
      this.busy = false;
    }
  }

  /** The output of one block, or null when the block itself is malformed (reported, nothing stepped). */
  private stepBlock(block: unknown): KeyedOutputBlock<K> | null {
    const slab = this.slab;
    const b = block as Partial<KeyedBlock<K>> | null;
    if (b === null || typeof b !== 'object') {
      return this.rejectBlock(new InvalidInputError('SEQ_INPUT_TYPE', `Keyed block must be an object { keys, x }, received ${b === null ? 'null' : typeof b}`, { received: typeof b }), block);
    }
    const { keys, x, reset, offsets } = b;
    if (!isArrayLike(keys)) return this.rejectBlock(new InvalidInputError('SEQ_INPUT_TYPE', `Keyed block 'keys' must be an array, received ${describe(keys)}`, {}), block);
    const n = keys.length;
    const I = this.I;
    if (!isArrayLike(x)) return this.rejectBlock(new InvalidInputError('SEQ_INPUT_TYPE', `Keyed block 'x' must be a Float32Array (or array) of keys.length * inputSize numbers, received ${describe(x)}`, {}), block);
    if (x.length !== n * I) {
      return this.rejectBlock(new InvalidInputError('SEQ_INPUT_SHAPE', `Keyed block 'x' must hold ${n} rows x ${I} inputs = ${n * I} numbers, received ${x.length}`, { expected: [n, I], received: [x.length] }), block);
    }
    if (reset !== undefined && (!isArrayLike(reset) || reset.length !== n)) {
      return this.rejectBlock(new InvalidInputError('SEQ_INPUT_SHAPE', `Keyed block 'reset' must hold one flag per row (${n}), received ${describe(reset)}`, { expected: [n] }), block);
    }
    if (offsets !== undefined && (!isArrayLike(offsets) || offsets.length !== n)) {
      return this.rejectBlock(new InvalidInputError('SEQ_KEYED_OFFSET', `Keyed block 'offsets' must hold one number per row (${n}), received ${describe(offsets)}`, { expected: [n] }), block);
    }
    const typed = ArrayBuffer.isView(x);
    const yLen = this.yLen;
    const fast = n > 0 && x instanceof Float32Array && slab.pending === 0;
    // A block of one chunk without `h` gets its `y` from the step (fresh: with `emit: 'hidden'` on
    // onnxruntime-node, the binding's own copy of the top layer's h), so none is allocated here;
    // with `emit: 'all'` it gets its `h` that way (the head's `y` is small).
    const one = fast && n <= this.maxBatch;
    const lend = one && !this.withH;
    const lendH = one && this.withH;
    this.y = lend ? NO_ROWS : new Float32Array(n * yLen);
    this.h = this.withH ? (lendH ? NO_ROWS : new Float32Array(n * this.H)) : null;
    this.base = 0;
    const inputRows = new Int32Array(n);
    // Rows the fast path stepped (all of them, or none but when an eviction stopped it mid-block).
    const done = fast ? this.stepFast(keys as ArrayLike<K>, x as Float32Array, reset, offsets, lend, lendH) : 0;
    if (lend && done === 0) this.y = new Float32Array(n * yLen);
    if (lendH && done === 0) this.h = new Float32Array(n * this.H);
    for (let j = 0; j < done; j++) inputRows[j] = j;
    this.base = done;
    let accepted = done;
    const xs = x as ArrayLike<number>;
    const admission = slab.admission;
    for (let j = done; j < n; j++) {
      const key = keys[j] as K;
      const off = offsets === undefined ? undefined : (offsets[j] as number);
      if (!admission.checkKeyAndOffset(key, off, block, j)) continue;
      if (!admission.queueInput(xs, j * I, typed, undefined, key, block, j)) continue;
      const r = reset === undefined ? false : reset[j] === true || reset[j] === 1;
      if (!admission.admit(key, r, off, block, j)) continue;
      inputRows[accepted++] = j;
      if (slab.pending >= this.maxBatch) this.stepChunk();
    }
    if (slab.pending > 0) this.stepChunk();
    slab.releaseDeleted();
    const all = accepted === n;
    return {
      rows: accepted,
      keys: all ? (keys as ArrayLike<K>) : pick(keys as ArrayLike<K>, inputRows, accepted),
      y: all ? this.y : this.y.subarray(0, accepted * yLen),
      yLen,
      h: this.h === null ? undefined : all ? this.h : this.h.subarray(0, accepted * this.H),
      inputRows: all ? inputRows : inputRows.subarray(0, accepted),
      offsets: offsets === undefined ? undefined : all ? (offsets as ArrayLike<number>) : Float64Array.from(pick(offsets as ArrayLike<number>, inputRows, accepted)),
      modelVersion: slab.model.version,
    };
  }

  /**
   * The fast path of a block that needs no per-row decision: every key already held and distinct
   * ({@link HeldRows}: no `Map` lookup when the keys are the previous block's), every offset
   * finite, and every value finite (checked as the chunk is copied to where the step reads it,
   * `KeyedStep.stage`: in SIMD in kernel memory). Its rows step straight from the
   * block's `x` (no copy into the queue), `maxBatch` at a time, into the output buffers: the same
   * rows, order, resets and bookkeeping as the checked way, so the same bits. Returns the rows it
   * stepped: 0 when a condition fails (the block goes the checked way, which reports the bad
   * rows; a value that is not finite in a later `maxBatch` chunk sends that chunk on), fewer than all when a key gained or lost a row between two `maxBatch` chunks (an idle
   * eviction, or an `onEvict` callback's control call: the rest goes the checked way, which looks
   * its keys up again, as it would have).
   */
  private stepFast(keys: ArrayLike<K>, x: Float32Array, reset: ArrayLike<boolean | number> | undefined, offsets: ArrayLike<number> | undefined, lend: boolean, lendH: boolean): number {
    const slab = this.slab;
    if (offsets !== undefined && !allFiniteNumbers(offsets)) return 0;
    const rows = this.held.resolve(slab, keys);
    if (rows === null) return 0;
    const generation = slab.rowGeneration;
    const n = keys.length;
    const { I, H, yLen, maxBatch, fastReset } = this;
    for (let c = 0; c < n; c += maxBatch) {
      if (slab.rowGeneration !== generation) return c;
      const m = Math.min(maxBatch, n - c);
      if (reset === undefined) fastReset.fill(0, 0, m);
      else for (let j = 0; j < m; j++) fastReset[j] = reset[c + j] === true || reset[c + j] === 1 ? 1 : 0;
      const chunkRows = c === 0 && m === n ? rows : rows.subarray(c, c + m);
      const chunkX = c === 0 && m === n ? x : x.subarray(c * I, (c + m) * I);
      const y = lend ? null : m === n ? this.y : this.y.subarray(c * yLen, (c + m) * yLen);
      const h = this.h === null || lendH ? null : m === n ? this.h : this.h.subarray(c * H, (c + m) * H);
      // A value that is not finite: this chunk and the rest go the checked way, which reports the row.
      const out = slab.held.run(chunkRows, fastReset, m, chunkX, y, h, offsets, c, this.held.token, lendH);
      if (out === null) return c;
      // One chunk (lending needs n <= maxBatch).
      if (lend) this.y = out;
      else if (lendH) this.h = out;
    }
    return n;
  }

  /** Steps every queued row of the block so far. */
  private stepChunk(): void {
    const m = this.slab.pending;
    this.slab.stepQueue(m, this.sub);
    this.base += m;
  }

  /** One sub-batch: queue slots `idx[0..n)` (increasing) are output rows `base + idx[j]`. */
  private stepSub(n: number, idx: Int32Array, x: Float32Array): void {
    const { yLen, H, base } = this;
    if (idx[n - 1] - idx[0] === n - 1) {
      // Consecutive slots (every sub-batch of a block whose keys are distinct): write in place.
      const at = base + idx[0];
      this.slab.stepQueued(n, idx, x, this.y.subarray(at * yLen, (at + n) * yLen), this.h ? this.h.subarray(at * H, (at + n) * H) : null);
      return;
    }
    if (this.scratchY.length < n * yLen) {
      this.scratchY = new Float32Array(this.maxBatch * yLen);
      this.scratchH = this.withH ? new Float32Array(this.maxBatch * H) : null;
    }
    const sy = this.scratchY;
    const sh = this.scratchH;
    this.slab.stepQueued(n, idx, x, sy.subarray(0, n * yLen), sh ? sh.subarray(0, n * H) : null);
    for (let j = 0; j < n; j++) {
      const at = base + idx[j];
      this.y.set(sy.subarray(j * yLen, j * yLen + yLen), at * yLen);
      if (sh && this.h) this.h.set(sh.subarray(j * H, j * H + H), at * H);
    }
  }

  private rejectBlock(error: InvalidInputError, block: unknown): null {
    this.slab.admission.rejectInput(error, block);
    return null;
  }
}

const NO_ROWS = new Float32Array(0);

function pick<T>(from: ArrayLike<T>, rows: Int32Array, n: number): T[] {
  const out: T[] = new Array(n);
  for (let j = 0; j < n; j++) out[j] = from[rows[j]];
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (isArrayLike(v)) return `${v.length} values`;
  return typeof v;
}
