import type { StateSnapshot } from '../../cells/stateSnapshot.js';
import type { ModelState } from '../../cells/types.js';

/**
 * The key rows' storage as the key table and checkpoints see it: rows addressed by index only.
 * {@link StateRows} (plain arrays) and `ResidentRows` (the WebAssembly kernel's memory) both fit.
 *
 * @example
 * ```ts
 * const store: KeyedRowStore = createResidentRows(model, { maxBatch: 64 }) ?? new StateRows(1, 32, true, 64);
 * store.grow(1024);
 * ```
 */
export interface KeyedRowStore {
  /** Key rows allocated. */
  readonly capacity: number;
  /** Floats of one key's state in checkpoint order: `h` of layers 0..L-1, then `c` of layers 0..L-1. */
  readonly rowFloats: number;
  /** Grows to `capacity` key rows, keeping every row's contents (new rows are zero). */
  grow(capacity: number): void;
  /** Zeroes key row `row`. */
  zero(row: number): void;
  /** Writes row `srcRow` of `src` into key row `row`. */
  write(row: number, src: ModelState, srcRow: number): void;
  /** Copies key row `row` into `dst` at `offset` ({@link rowFloats} floats, checkpoint order). */
  read(row: number, dst: Float32Array, offset: number): void;
  /** Sets key row `row` from `src` at `offset` (the layout {@link read} writes). */
  load(row: number, src: Float32Array, offset: number): void;
  /** Key row `row` as a JSON-safe snapshot of a `cell` model. */
  snapshot(row: number, cell: string): StateSnapshot;
  /** Bytes held. */
  bytes(): number;
  /** Drops the buffers (teardown). */
  release(): void;
}

/**
 * Where the keyed table keeps its hidden state when the WebAssembly kernel cannot hold it (engine
 * `'js'`, or no WebAssembly SIMD): one Float32Array per layer for `h` (and one for
 * `c`), holding a batch area of `maxBatch` rows first and then one row per key (key row `r` at
 * `maxBatch + r`), so gathering a sub-batch and scattering it back are native `copyWithin` calls
 * inside one buffer. Rows are addressed by index only: the key table, the pending queue and
 * checkpointing never touch the buffers, so this storage can move (e.g. into a kernel's memory)
 * behind the same methods.
 *
 * @example
 * ```ts
 * const rows = new StateRows(1, 32, true, 64); // 1 LSTM layer, H = 32, batches of up to 64 rows
 * rows.grow(1024);
 * rows.gather(0, 17, false); // key row 17 into batch row 0
 * stepper.stepInPlace(rows.batchState(1), x);
 * rows.scatter(17, 0);
 * ```
 */
export class StateRows implements KeyedRowStore {
  private h: Float32Array[] = [];
  private c: Float32Array[] = [];
  private readonly batchStates: (ModelState | undefined)[];
  private readonly rowBase: number;
  /** Key rows allocated. */
  capacity = 0;

  /** Floats of one key's state in checkpoint order: `h` of layers 0..L-1, then `c` of layers 0..L-1. */
  readonly rowFloats: number;

  constructor(
    private readonly layers: number,
    private readonly hidden: number,
    private readonly hasC: boolean,
    private readonly maxBatch: number,
  ) {
    this.rowBase = maxBatch * hidden;
    this.rowFloats = (hasC ? 2 : 1) * layers * hidden;
    this.batchStates = new Array(maxBatch + 1);
  }

  /** Grows to `capacity` key rows, keeping every row's contents (new rows are zero). */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    const size = this.rowBase + capacity * this.hidden;
    const widen = (a: Float32Array): Float32Array => {
      const b = new Float32Array(size);
      b.set(a);
      return b;
    };
    const fresh = (): Float32Array[] => Array.from({ length: this.layers }, () => new Float32Array(size));
    this.h = this.capacity === 0 ? fresh() : this.h.map(widen);
    if (this.hasC) this.c = this.capacity === 0 ? fresh() : this.c.map(widen);
    this.batchStates.fill(undefined); // their views point at the old buffers
    this.capacity = capacity;
  }

  /** The batch area's first `n` rows as a `ModelState` for the stepper (views, cached per `n`). */
  batchState(n: number): ModelState {
    let s = this.batchStates[n];
    if (!s) {
      const len = n * this.hidden;
      s = { batch: n, h: this.h.map((b) => b.subarray(0, len)), c: this.hasC ? this.c.map((b) => b.subarray(0, len)) : null };
      this.batchStates[n] = s;
    }
    return s;
  }

  /** Copies key row `row` into batch row `j`, or zeroes batch row `j` when `zero`. */
  gather(j: number, row: number, zero: boolean): void {
    const H = this.hidden;
    const dst = j * H;
    const src = this.rowBase + row * H;
    for (let k = 0; k < this.layers; k++) {
      if (zero) this.h[k].fill(0, dst, dst + H);
      else this.h[k].copyWithin(dst, src, src + H);
      if (this.hasC) {
        if (zero) this.c[k].fill(0, dst, dst + H);
        else this.c[k].copyWithin(dst, src, src + H);
      }
    }
  }

  /** Copies batch row `j` back into key row `row`. */
  scatter(row: number, j: number): void {
    const H = this.hidden;
    const src = j * H;
    const dst = this.rowBase + row * H;
    for (let k = 0; k < this.layers; k++) {
      this.h[k].copyWithin(dst, src, src + H);
      if (this.hasC) this.c[k].copyWithin(dst, src, src + H);
    }
  }

  /** Zeroes key row `row`. */
  zero(row: number): void {
    const H = this.hidden;
    const at = this.rowBase + row * H;
    for (let k = 0; k < this.layers; k++) {
      this.h[k].fill(0, at, at + H);
      if (this.hasC) this.c[k].fill(0, at, at + H);
    }
  }

  /** Writes row `srcRow` of `src` into key row `row`. */
  write(row: number, src: ModelState, srcRow: number): void {
    const H = this.hidden;
    const at = this.rowBase + row * H;
    const from = srcRow * H;
    for (let k = 0; k < this.layers; k++) {
      this.h[k].set(src.h[k].subarray(from, from + H), at);
      if (this.hasC && src.c) this.c[k].set(src.c[k].subarray(from, from + H), at);
    }
  }

  /** Copies key row `row` into `dst` at `offset` ({@link rowFloats} floats, checkpoint order). */
  read(row: number, dst: Float32Array, offset: number): void {
    const H = this.hidden;
    const L = this.layers;
    const at = this.rowBase + row * H;
    for (let k = 0; k < L; k++) {
      dst.set(this.h[k].subarray(at, at + H), offset + k * H);
      if (this.hasC) dst.set(this.c[k].subarray(at, at + H), offset + (L + k) * H);
    }
  }

  /** Sets key row `row` from `src` at `offset` (the layout {@link read} writes). */
  load(row: number, src: Float32Array, offset: number): void {
    const H = this.hidden;
    const L = this.layers;
    const at = this.rowBase + row * H;
    for (let k = 0; k < L; k++) {
      this.h[k].set(src.subarray(offset + k * H, offset + k * H + H), at);
      if (this.hasC) this.c[k].set(src.subarray(offset + (L + k) * H, offset + (L + k) * H + H), at);
    }
  }

  /** Key row `row` as a JSON-safe snapshot of a `cell` model. */
  snapshot(row: number, cell: string): StateSnapshot {
    const H = this.hidden;
    const at = this.rowBase + row * H;
    const take = (arrs: Float32Array[]): number[][] => arrs.map((a) => Array.from(a.subarray(at, at + H)));
    const snap: StateSnapshot = { format: 'seqstream-state', version: 1, cell, hiddenSize: H, numLayers: this.layers, h: take(this.h) };
    if (this.hasC) snap.c = take(this.c);
    return snap;
  }

  /** Bytes held: every key row plus the batch area. */
  bytes(): number {
    return this.rowFloats * 4 * (this.capacity + this.maxBatch);
  }

  /** Drops the buffers (teardown). */
  release(): void {
    this.h = [];
    this.c = [];
    this.batchStates.fill(undefined);
    this.capacity = 0;
  }
}
