import type { RecurrentModel } from '../cells/model.js';
import { InvalidInputError } from '../errors.js';
import { integerOption, oneOfOption } from '../options.js';
import type { StateSnapshot } from '../cells/stateSnapshot.js';
import type { ModelState } from '../cells/types.js';
import { NATIVE_MIN_WORK, rowWork, type StepEngine } from './autoStepper.js';
import { GatesKernel, gatesKernelModule, type GatesKernelShape } from './gatesKernel.js';
import { createOnnxStepper, nativeGraphOf, type OnnxStepper } from './onnxEngine.js';
import { stepSplit, stepThreads, type SplitJob } from './stepPool.js';
import { gatesKernelShapeOf, SPLIT_MIN_WORK } from './wasmStepper.js';
import { settleRows, stepRowsNative, zeroDisplaced, type DisplacedRows, type NativeTensors } from './internal/nativeRowStep.js';
import { gatherRows, packRows, unpackRows, type RowLayout } from './internal/rowCopy.js';

/**
 * Options of {@link createResidentRows}.
 *
 * @example
 * ```ts
 * const options: ResidentRowsOptions = { maxBatch: 1024, engine: 'auto', threads: 2 };
 * ```
 */
export interface ResidentRowsOptions {
  /** Most rows stepped in one call. */
  readonly maxBatch: number;
  /** `'auto'`: batches of {@link NATIVE_MIN_WORK}+ multiply-adds go to onnxruntime-node when it loads; `'wasm'`: never; `'native'`: every batch (the caller checked it loads). Default `'auto'`. */
  readonly engine?: Exclude<StepEngine, 'js'>;
  /** Threads for the WebAssembly kernel and onnxruntime. Default `stepThreads()`. */
  readonly threads?: number;
}

/**
 * A keyed state slab that lives in the WebAssembly kernel's own memory: one row per key (`h`, and
 * `c` for LSTM, per layer, padded row stride), and batches stepped by row index where the rows are
 * (`stepResident`), so nothing is gathered before or scattered after a WebAssembly step. With 2+
 * threads a large batch is split with the process-wide step worker: the worker's share is copied
 * straight from these rows into its shared buffer and back (it has its own memory). Batches that
 * go to onnxruntime-node (which steps contiguous tensors) are gathered into its input tensors,
 * preallocated in this same memory, and onnxruntime writes the new state into output tensors
 * there too, scattered back to the rows: one `copyWithin` each way. A run of consecutive rows
 * needs neither copy: it is the input tensor itself, and its new state stays in the output tensors
 * for the next native step of the same rows (ping-pong between two tensor sets), put back only
 * when something else touches the rows (`DisplacedRows`). Results are bit-identical to the copy-mode kernel for every row and batch.
 *
 * @example
 * ```ts
 * const slab = createResidentRows(model, { maxBatch: 1024 });
 * slab?.grow(4096);
 * slab?.step(rowsOfThisBatch, n, inputs); // rows[0..n) distinct
 * slab?.top(rowsOfThisBatch, n, out);     // their new top-layer h, n * hiddenSize floats
 * ```
 */
export class ResidentRows {
  /** Key rows allocated. */
  capacity = 0;
  /** Floats of one key's state in checkpoint order: `h` of layers 0..L-1, then `c` of layers 0..L-1. */
  readonly rowFloats: number;
  private readonly kernel: GatesKernel;
  private readonly shape: GatesKernelShape;
  private readonly L: number;
  private readonly H: number;
  private readonly I: number;
  private readonly Hp: number;
  private readonly hasC: boolean;
  private readonly layout: RowLayout;
  private readonly threads: number;
  /** The native graph (read from `SEQSTREAM_NATIVE_GRAPH` here, so a bad value fails at creation, not at the first large batch). */
  private readonly graph: 'op' | 'gates';
  private readonly nativeRows: number;
  private readonly splitRows: number;
  /** Which engine stepped the last batch: `'wasm-simd'` or `'onnxruntime'`. */
  kind = 'wasm-simd';
  /** After a native step: where its top-layer `h` output tensor is in kernel memory (rows in batch order), for {@link top}; -1 otherwise. */
  private nativeTop = -1;
  private nativeTopIdx: Int32Array | null = null;
  private nativeTopN = 0;
  private native: OnnxStepper | null | undefined;
  /** Floats of the scratch area: the staged inputs (0 until {@link stage} first runs), then onnxruntime's state tensors (0 until it loads). */
  private stagingFloats = 0;
  private tensorFloats = 0;
  private version = -1;
  /** The run of rows whose state the last native step left in its output tensors (ping-pong; see `DisplacedRows`). */
  private readonly moved: DisplacedRows = { first: 0, n: 0, set: -1 };
  private readonly job: { -readonly [K in keyof SplitJob]: SplitJob[K] } & { idx: Int32Array; x: Float32Array };
  private readonly ownRows = (r0: number, n: number): void => this.kernel.stepResident(r0 === 0 ? this.job.idx : this.job.idx.subarray(r0), n, this.job.x, r0 * this.I);

  constructor(
    private readonly model: RecurrentModel,
    module: WebAssembly.Module,
    private readonly o: Required<ResidentRowsOptions>,
  ) {
    this.shape = gatesKernelShapeOf(model);
    this.kernel = new GatesKernel(module, this.shape);
    const { hiddenSize, inputSize } = model.config;
    this.L = model.layers.length;
    this.H = hiddenSize;
    this.I = inputSize;
    this.Hp = this.kernel.rowStride;
    this.hasC = model.cellDefinition.hasCellState;
    this.rowFloats = (this.hasC ? 2 : 1) * this.L * hiddenSize;
    this.layout = { L: this.L, H: hiddenSize, Hp: this.Hp, I: inputSize, hasC: this.hasC };
    this.threads = o.threads;
    this.graph = o.engine === 'wasm' ? 'op' : nativeGraphOf(model);
    const work = rowWork(model);
    this.nativeRows = o.engine === 'native' ? 1 : o.engine === 'wasm' ? Infinity : Math.max(2, Math.ceil(NATIVE_MIN_WORK / work));
    this.splitRows = Math.ceil(SPLIT_MIN_WORK / work);
    const self = this;
    this.job = {
      model,
      shape: this.shape,
      module,
      batch: 0,
      idx: new Int32Array(0),
      x: new Float32Array(0),
      pack: (r0, n, d) => packRows(self.kernel, self.layout, self.job.idx, self.job.x, r0, n, d),
      unpack: (r0, n, d) => unpackRows(self.kernel, self.layout, self.job.idx, r0, n, d),
    };
  }

  /** Grows to `capacity` key rows, keeping every row's contents (new rows are zero). */
  grow(capacity: number): void {
    this.nativeTop = -1;
    if (capacity <= this.capacity) return;
    this.syncWeights();
    this.settle(); // a regrow does not keep the tensors
    this.kernel.reserveResident(capacity, this.o.maxBatch, this.stagingFloats + this.tensorFloats);
    this.capacity = capacity;
  }

  /** Zeroes key row `row` (padded lanes included: they stay 0). */
  zero(row: number): void {
    this.nativeTop = -1;
    const { kernel, Hp } = this;
    // A displaced row is zeroed where its state is (a reset row of a steady block stays in the ping-pong).
    if (zeroDisplaced(kernel, this.layout, this.tensors(), this.moved, row)) return;
    const f32 = kernel.f32;
    for (let k = 0; k < this.L; k++) {
      const h = kernel.hAt(k) + row * Hp;
      f32.fill(0, h, h + Hp);
      if (this.hasC) {
        const c = kernel.cAt(k) + row * Hp;
        f32.fill(0, c, c + Hp);
      }
    }
  }

  /** Writes row `srcRow` of `src` into key row `row`. */
  write(row: number, src: ModelState, srcRow: number): void {
    this.nativeTop = -1;
    this.settle();
    const { kernel, H, Hp } = this;
    const f32 = kernel.f32;
    const from = srcRow * H;
    for (let k = 0; k < this.L; k++) {
      f32.set(src.h[k].subarray(from, from + H), kernel.hAt(k) + row * Hp);
      if (this.hasC && src.c) f32.set(src.c[k].subarray(from, from + H), kernel.cAt(k) + row * Hp);
    }
  }

  /** Copies key row `row` into `dst` at `offset` ({@link rowFloats} floats, checkpoint order). */
  read(row: number, dst: Float32Array, offset: number): void {
    this.settle();
    const { kernel, H, Hp, L } = this;
    const f32 = kernel.f32;
    for (let k = 0; k < L; k++) {
      const h = kernel.hAt(k) + row * Hp;
      dst.set(f32.subarray(h, h + H), offset + k * H);
      if (this.hasC) {
        const c = kernel.cAt(k) + row * Hp;
        dst.set(f32.subarray(c, c + H), offset + (L + k) * H);
      }
    }
  }

  /** Sets key row `row` from `src` at `offset` (the layout {@link read} writes). */
  load(row: number, src: Float32Array, offset: number): void {
    this.nativeTop = -1;
    this.settle();
    const { kernel, H, Hp, L } = this;
    const f32 = kernel.f32;
    for (let k = 0; k < L; k++) {
      f32.set(src.subarray(offset + k * H, offset + k * H + H), kernel.hAt(k) + row * Hp);
      if (this.hasC) f32.set(src.subarray(offset + (L + k) * H, offset + (L + k) * H + H), kernel.cAt(k) + row * Hp);
    }
  }

  /** Key row `row` as a JSON-safe snapshot of a `cell` model. */
  snapshot(row: number, cell: string): StateSnapshot {
    this.settle();
    const { kernel, H, Hp } = this;
    const f32 = kernel.f32;
    const take = (at: (k: number) => number): number[][] => Array.from({ length: this.L }, (_, k) => Array.from(f32.subarray(at(k) + row * Hp, at(k) + row * Hp + H)));
    const snap: StateSnapshot = { format: 'seqstream-state', version: 1, cell, hiddenSize: H, numLayers: this.L, h: take((k) => kernel.hAt(k)) };
    if (this.hasC) snap.c = take((k) => kernel.cAt(k));
    return snap;
  }

  /**
   * Steps the `n` distinct key rows `idx[0..n)` in place, batch row `j` reading its input at
   * `x[j * inputSize]`: on the WebAssembly kernel by index (split with the step worker when the
   * batch is large), or, from the native threshold up, on onnxruntime-node. With `top` (`n *
   * hiddenSize` floats) the rows' new top-layer `h` lands there too, in batch order, as
   * {@link top} gives it (onnxruntime writes it there directly: one copy fewer).
   */
  step(idx: Int32Array, n: number, x: Float32Array, top?: Float32Array): void {
    this.nativeTop = -1;
    if (n === 0) return;
    this.checkBatch(idx, n, x);
    if (top !== undefined && top.length < n * this.H) {
      throw new InvalidInputError('SEQ_INPUT_SHAPE', `ResidentRows.step: 'top' needs ${n * this.H} floats, received ${top.length}`, { expected: [n, this.H], received: [top.length] });
    }
    this.syncWeights();
    if (n >= this.nativeRows && this.stepNative(idx, n, x, top)) return;
    this.settle();
    this.kind = 'wasm-simd';
    const job = this.job;
    job.idx = idx;
    job.x = x;
    if (this.threads >= 2 && n >= this.splitRows) {
      job.batch = n;
      if (stepSplit(job, this.threads, this.ownRows)) {
        if (top !== undefined) this.top(idx, n, top);
        return;
      }
    }
    this.kernel.stepResident(idx, n, x, 0);
    if (top !== undefined) this.top(idx, n, top);
  }

  /**
   * {@link step} without a caller's `top`: returns a fresh buffer (`n * hiddenSize` floats, batch
   * order, yours to keep) with the rows' new top-layer `h`. On onnxruntime-node that is the copy
   * its binding makes of the output anyway (when it passes the checks of `OnnxStepper.stepTo`), so
   * no second buffer is allocated; otherwise a new one that {@link top} fills.
   *
   * @example
   * ```ts
   * const y = slab.stepFresh(rows, n, x); // y.length === n * hiddenSize
   * ```
   */
  stepFresh(idx: Int32Array, n: number, x: Float32Array): Float32Array {
    if (n > 0 && n >= this.nativeRows) {
      this.nativeTop = -1;
      this.checkBatch(idx, n, x);
      this.syncWeights();
      const lent = this.stepNative(idx, n, x, undefined, true);
      if (lent instanceof Float32Array) return lent;
      if (lent) {
        const out = new Float32Array(n * this.H);
        this.top(idx, n, out);
        return out;
      }
    }
    const out = new Float32Array(n * this.H);
    this.step(idx, n, x, out);
    return out;
  }

  /**
   * Copies the inputs of an `n`-row batch (`n * inputSize` floats of `x`, `n` at most `maxBatch`)
   * into this memory, where the step reads them (onnxruntime's input tensor is this very span),
   * checking in SIMD that every value is finite: the view to pass to {@link step}, or null when
   * some value is NaN or ±Infinity (nothing else changed). Anything that grows the memory (a new
   * key's row) detaches the view: stage again after it.
   */
  stage(x: Float32Array, n: number): Float32Array | null {
    const floats = n * this.I;
    if (n > this.o.maxBatch || x.length < floats) {
      throw new InvalidInputError('SEQ_INPUT_SHAPE', `ResidentRows.stage: ${n} rows of inputSize ${this.I} (at most maxBatch ${this.o.maxBatch}) need ${floats} inputs, received ${x.length}`, { rows: n, maxBatch: this.o.maxBatch });
    }
    if (this.stagingFloats === 0) {
      this.settle(); // the tensors move up past the staging area
      this.stagingFloats = (this.o.maxBatch * this.I + 3) & ~3;
      this.kernel.reserveResident(this.capacity, this.o.maxBatch, this.stagingFloats + this.tensorFloats);
    }
    // Load onnxruntime now if this batch goes to it: its tensors grow the memory, which would detach the view.
    if (n >= this.nativeRows) this.nativeEngine();
    const kernel = this.kernel;
    const at = kernel.scratchAt;
    const view = kernel.f32.subarray(at, at + floats);
    view.set(x.length === floats ? x : x.subarray(0, floats));
    return kernel.firstNonFinite(at, floats) === floats ? view : null;
  }

  /** onnxruntime's stepper (loaded, and its state tensors laid out, on first use), or null when it is not there. */
  private nativeEngine(): OnnxStepper | null {
    if (this.native === undefined) {
      this.native = createOnnxStepper(this.model, { threads: this.threads, graph: this.graph });
      // In/out tensors for h (and c) of every layer, maxBatch rows each.
      if (this.native) {
        this.settle();
        this.tensorFloats = (this.hasC ? 4 : 2) * this.L * this.o.maxBatch * this.H;
        this.kernel.reserveResident(this.capacity, this.o.maxBatch, this.stagingFloats + this.tensorFloats);
      }
    }
    return this.native;
  }

  /** A batch the kernel would read or write out of bounds is refused before it touches memory. */
  private checkBatch(idx: Int32Array, n: number, x: Float32Array): void {
    if (!Number.isInteger(n) || n < 0 || n > this.o.maxBatch || n > idx.length) {
      throw new InvalidInputError('SEQ_INPUT_SHAPE', `ResidentRows.step: ${n} rows, at most maxBatch (${this.o.maxBatch}) and the ${idx.length} indices given`, { rows: n, maxBatch: this.o.maxBatch });
    }
    if (x.length < n * this.I) {
      throw new InvalidInputError('SEQ_INPUT_SHAPE', `ResidentRows.step: ${n} rows of inputSize ${this.I} need ${n * this.I} inputs, received ${x.length}`, { expected: [n, this.I], received: [x.length] });
    }
    for (let j = 0; j < n; j++) {
      const row = idx[j];
      if (row < 0 || row >= this.capacity) {
        throw new InvalidInputError('SEQ_INPUT_SHAPE', `ResidentRows.step: row index ${row} (batch row ${j}) is outside the ${this.capacity} rows grown`, { row, capacity: this.capacity });
      }
    }
  }

  /** Copies the top-layer `h` of key rows `idx[0..n)` into `out` (`n * hiddenSize` floats, batch order). */
  top(idx: Int32Array, n: number, out: Float32Array): void {
    const { kernel, H, Hp } = this;
    if (this.nativeTop >= 0 && idx === this.nativeTopIdx && n === this.nativeTopN) {
      // Right after a native step the new top rows are still in onnxruntime's output tensor, in batch order.
      out.set(kernel.f32.subarray(this.nativeTop, this.nativeTop + n * H));
      return;
    }
    this.settle();
    gatherRows(kernel.f32, kernel.hAt(this.L - 1), Hp, idx, n, out, H);
  }

  /** Bytes held: every key row (padded) plus the kernel's batch input area. */
  bytes(): number {
    return (this.hasC ? 2 : 1) * this.L * this.Hp * 4 * this.capacity + this.o.maxBatch * (this.I + 1) * 4;
  }

  /** Bytes of the WebAssembly memory that holds the rows (all of it: rows, weights, batch areas). Not counted in `process.memoryUsage().arrayBuffers`. */
  memoryBytes(): number {
    return this.kernel.f32.byteLength;
  }

  /** Forgets every row (teardown; the memory goes with this object). */
  release(): void {
    this.capacity = 0;
    this.moved.set = -1;
  }

  /** onnxruntime's two state tensor sets in this memory (after the staging area). */
  private tensors(): NativeTensors {
    return { at: this.kernel.scratchAt + this.stagingFloats, maxBatch: this.o.maxBatch };
  }

  /** Puts displaced rows' state back into the rows (see `DisplacedRows`): before anything else reads, writes or moves them. */
  private settle(): void {
    if (this.moved.set >= 0) settleRows(this.kernel, this.layout, this.tensors(), this.moved);
  }

  private syncWeights(): void {
    if (this.version === this.model.version) return;
    this.kernel.setWeights(this.model.layers);
    this.version = this.model.version;
  }

  /** A native step of rows `idx[0..n)` (see `stepRowsNative`): false when onnxruntime is not there, with `lend` the binding's fresh top `h` when it lent one. */
  private stepNative(idx: Int32Array, n: number, x: Float32Array, top: Float32Array | undefined, lend = false): boolean | Float32Array {
    // (Staged inputs are not moved here: `stage` loads onnxruntime before it takes its view.)
    const native = this.nativeEngine();
    if (!native) return false;
    const kernel = this.kernel;
    const topAt = stepRowsNative(native, kernel, this.layout, this.tensors(), this.moved, idx, n, x, top, lend);
    this.kind = 'onnxruntime';
    if (topAt instanceof Float32Array) return topAt; // the binding's own copy: nothing to remember
    if (topAt < 0) return true; // top() would read the rows again: nothing to remember
    this.nativeTop = topAt;
    this.nativeTopIdx = idx;
    this.nativeTopN = n;
    return true;
  }
}

/**
 * A {@link ResidentRows} slab for `model`, or `null` when this runtime cannot run the WebAssembly
 * kernel (then keep state in plain arrays and step with `createFusedStepper`).
 *
 * @example
 * ```ts
 * const slab = createResidentRows(model, { maxBatch: 1024, engine: 'wasm' });
 * ```
 */
export function createResidentRows(model: RecurrentModel, options: ResidentRowsOptions): ResidentRows | null {
  const maxBatch = integerOption('maxBatch', options?.maxBatch, undefined, 1);
  const engine = oneOfOption('engine', options.engine, ['auto', 'wasm', 'native'] as const, 'auto');
  const threads = integerOption('threads', options.threads, stepThreads(), 1);
  const module = gatesKernelModule();
  if (!module) return null;
  return new ResidentRows(model, module, { maxBatch, engine, threads });
}
