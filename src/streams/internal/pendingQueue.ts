/** Steps one sub-batch: `n` queued events, their queue indices in `idx[0..n)`, their inputs in `x` (`n * inputSize`). */
export type StepSubBatch = (n: number, idx: Int32Array, x: Float32Array) => void;

const NO_OFFSET = Number.NaN;

/**
 * The keyed table's queue of validated events waiting to be stepped, in arrival order: per event
 * its key's row, its input (copied in while it is validated), its reset flag and offset. It holds
 * `maxBatch` events and grows past that only while outputs are being emitted (an emission may
 * queue more). {@link forEachSubBatch} cuts the first events into sub-batches in which each row
 * appears at most once, in per-row order: one stepper call per sub-batch.
 *
 * @example
 * ```ts
 * const queue = new PendingQueue(inputSize, 64);
 * const p = queue.reserve();
 * queue.x.set(input, p * inputSize);
 * queue.commit(row, false, offset);
 * queue.forEachSubBatch(queue.length, table.capacity, (n, idx, x) => stepRows(n, idx, x));
 * queue.drop(m);
 * ```
 */
export class PendingQueue {
  private cap: number;
  private n = 0;
  /** Row of each queued event. */
  row: Int32Array;
  /** Inputs, `inputSize` floats per queued event. */
  x: Float32Array;
  /** 1 when the event starts from zeros. */
  reset: Uint8Array;
  /** Source offset of each event, NaN if it had none. */
  offset: Float64Array;
  private round: Int32Array;
  // Per-row scratch for cutting sub-batches: the call that last saw the row, and how often.
  private mark = new Int32Array(0);
  private seen = new Int32Array(0);
  private seq = 0;
  private readonly subIdx: Int32Array;
  private readonly subX: Float32Array;

  constructor(
    private readonly inputSize: number,
    maxBatch: number,
  ) {
    this.cap = maxBatch;
    this.row = new Int32Array(maxBatch);
    this.x = new Float32Array(maxBatch * inputSize);
    this.reset = new Uint8Array(maxBatch);
    this.offset = new Float64Array(maxBatch);
    this.round = new Int32Array(maxBatch);
    this.subIdx = new Int32Array(maxBatch);
    this.subX = new Float32Array(maxBatch * inputSize);
  }

  /** Events queued. */
  get length(): number {
    return this.n;
  }

  /** Bytes of the per-row scratch (two Int32 per row of the table). */
  get scratchBytesPerRow(): number {
    return 2 * 4;
  }

  /** Index of the next event's slot (growing the queue if needed); write its input at `x[index * inputSize]`, then {@link commit}. */
  reserve(): number {
    if (this.n === this.cap) this.grow();
    return this.n;
  }

  /** Queues the event whose input was written into the reserved slot. */
  commit(row: number, reset: boolean, offset: number | undefined): void {
    const p = this.n;
    this.row[p] = row;
    this.reset[p] = reset ? 1 : 0;
    this.offset[p] = offset === undefined ? NO_OFFSET : offset;
    this.n = p + 1;
  }

  /**
   * Calls `step` for successive sub-batches of the first `m` (at most `maxBatch`) events: events
   * whose row appears once go together; a row queued twice steps its second event in the next
   * sub-batch, and so on, so every key keeps its order. `rows` is the table's row capacity.
   */
  forEachSubBatch(m: number, rows: number, step: StepSubBatch): void {
    if (this.mark.length < rows) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(rows);
        b.set(a);
        return b;
      };
      this.mark = grow(this.mark);
      this.seen = grow(this.seen);
    }
    const seq = ++this.seq;
    const { row, round, mark, seen } = this;
    let maxRound = 0;
    for (let i = 0; i < m; i++) {
      const r = row[i];
      if (mark[r] !== seq) {
        mark[r] = seq;
        seen[r] = 0;
        round[i] = 0;
      } else {
        const k = ++seen[r];
        round[i] = k;
        if (k > maxRound) maxRound = k;
      }
    }
    const idx = this.subIdx;
    if (maxRound === 0) {
      // Common case: every key once, the queue is already the contiguous batch input.
      for (let i = 0; i < m; i++) idx[i] = i;
      step(m, idx, this.x.subarray(0, m * this.inputSize));
      return;
    }
    const I = this.inputSize;
    for (let k = 0; k <= maxRound; k++) {
      let n = 0;
      for (let i = 0; i < m; i++) {
        if (round[i] !== k) continue;
        this.subX.set(this.x.subarray(i * I, i * I + I), n * I);
        idx[n++] = i;
      }
      step(n, idx, this.subX.subarray(0, n * I));
    }
  }

  /** Removes the first `m` events (they have stepped). */
  drop(m: number): void {
    const rest = this.n - m;
    if (rest > 0) {
      this.row.copyWithin(0, m, this.n);
      this.x.copyWithin(0, m * this.inputSize, this.n * this.inputSize);
      this.reset.copyWithin(0, m, this.n);
      this.offset.copyWithin(0, m, this.n);
    }
    this.n = Math.max(0, rest);
  }

  /** Forgets every queued event (teardown). */
  clear(): void {
    this.n = 0;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const widen = <T extends Int32Array | Float32Array | Uint8Array | Float64Array>(a: T, n: number, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.row = widen(this.row, cap, (n) => new Int32Array(n));
    this.x = widen(this.x, cap * this.inputSize, (n) => new Float32Array(n));
    this.reset = widen(this.reset, cap, (n) => new Uint8Array(n));
    this.offset = widen(this.offset, cap, (n) => new Float64Array(n));
    this.round = widen(this.round, cap, (n) => new Int32Array(n));
    this.cap = cap;
  }
}
