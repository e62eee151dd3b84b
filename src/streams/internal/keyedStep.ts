import { resolveEngine, type StepEngine } from '../../kernels/autoStepper.js';
import { createFusedStepper, type FusedStepper } from '../../kernels/fusedStepper.js';
import { requireOnnxStepper } from '../../kernels/onnxEngine.js';
import { createResidentRows, type ResidentRows } from '../../kernels/residentRows.js';
import type { RecurrentModel } from '../../cells/model.js';
import type { ModelState } from '../../cells/types.js';
import { StateRows, type KeyedRowStore } from './stateRows.js';

/**
 * Where the keyed table's state lives and how a sub-batch of its rows is stepped. With the
 * WebAssembly kernel available (engines `'auto'`, `'wasm'`, `'native'`), the rows live in the
 * kernel's memory ({@link ResidentRows}) and are stepped by index where they are; batches for
 * onnxruntime-node are gathered into its input tensors and scattered back from its preallocated
 * outputs (a run of consecutive rows is neither: it is the input tensor, and its new state stays
 * in the outputs for its next native step). Otherwise (engine `'js'`, or no WebAssembly SIMD) they live in plain arrays
 * ({@link StateRows}) and are gathered into a batch area around each fused step. Either way a
 * row's result does not depend on the batch it is in, so crash replay stays bit-exact.
 *
 * @example
 * ```ts
 * const step = new KeyedStep(model, 1024, 'hidden', undefined);
 * table = new KeyTable(step.rows, tableOptions);
 * const y = new Float32Array(n * step.yLen);
 * step.run(rows, resets, n, x, y, null); // y.subarray(j * step.yLen, (j + 1) * step.yLen) is batch row j's output
 * ```
 */
export class KeyedStep {
  /** The key rows (grown by the key table). */
  readonly rows: KeyedRowStore;
  private readonly resident: ResidentRows | null;
  private readonly plain: StateRows | null;
  private readonly stepper: FusedStepper | null;
  private readonly H: number;
  private readonly I: number;
  private readonly O: number;
  private readonly L: number;
  private readonly top: Float32Array;
  private readonly withHead: boolean;

  constructor(
    private readonly model: RecurrentModel,
    maxBatch: number,
    emit: 'output' | 'hidden' | 'all',
    engine: StepEngine | undefined,
  ) {
    const resolved = resolveEngine(engine);
    if (resolved === 'native') requireOnnxStepper(model); // SEQ_ENGINE_UNAVAILABLE now, not at the first batch
    const { hiddenSize, numLayers, head } = model.config;
    this.H = hiddenSize;
    this.I = model.config.inputSize;
    this.L = numLayers;
    this.O = head ? head.outputSize : 0;
    this.withHead = head !== null && head !== undefined && emit !== 'hidden';
    this.top = new Float32Array(this.withHead ? maxBatch * hiddenSize : 0);
    this.resident = resolved === 'js' ? null : createResidentRows(model, { maxBatch, engine: resolved });
    if (this.resident) {
      this.plain = null;
      this.stepper = null;
      this.rows = this.resident;
    } else {
      this.plain = new StateRows(numLayers, hiddenSize, model.cellDefinition.hasCellState, maxBatch);
      this.stepper = createFusedStepper(model, { engine: resolved });
      this.rows = this.plain;
    }
  }

  /** Bytes of WebAssembly memory holding the rows (0 with plain-array state). */
  kernelMemoryBytes(): number {
    return this.resident ? this.resident.memoryBytes() : 0;
  }

  /** `'wasm-simd'`, `'onnxruntime'` (the engine of the last resident batch) or the plain stepper's kind. */
  get kind(): string {
    return this.resident ? this.resident.kind : (this.stepper as FusedStepper).kind;
  }

  /** Floats per row of `y`: the head's outputs, or `hiddenSize` with `emit: 'hidden'`. */
  get yLen(): number {
    return this.withHead ? this.O : this.H;
  }

  /**
   * Steps the `n` distinct key rows `rows[0..n)` (row `j` zeroed first when `reset[j]` is 1) with
   * inputs `x` (`n * inputSize`), and writes their outputs into `y` (`n * yLen`) and, with
   * `emit: 'all'`, their top-layer `h` into `h` (`n * hiddenSize`).
   */
  run(rows: Int32Array, reset: Uint8Array, n: number, x: Float32Array, y: Float32Array, h: Float32Array | null): void {
    const H = this.H;
    if (this.resident) {
      const slab = this.resident;
      for (let j = 0; j < n; j++) if (reset[j] === 1) slab.zero(rows[j]);
      // The top rows go once into the buffer the outputs keep (or a scratch the head reads);
      // onnxruntime writes them there itself.
      const top = this.withHead ? (h ?? this.top.subarray(0, n * H)) : y;
      slab.step(rows, n, x, top);
      if (this.withHead) this.model.headInPlace(this.topState(n, top), y);
      else if (h) h.set(top);
    } else {
      const plain = this.plain as StateRows;
      for (let j = 0; j < n; j++) plain.gather(j, rows[j], reset[j] === 1);
      const state = plain.batchState(n);
      const top = (this.stepper as FusedStepper).stepInPlace(state, x);
      if (this.withHead) (this.stepper as FusedStepper).headInPlace(state, y);
      else y.set(top.subarray(0, n * H));
      if (h) h.set(top.subarray(0, n * H));
      for (let j = 0; j < n; j++) plain.scatter(rows[j], j);
    }
  }

  /**
   * {@link run} for a caller without a `y` of its own and no `h` (`emit: 'hidden'` or
   * `'output'`): returns `y` as a fresh buffer, yours to keep. With `emit: 'hidden'` on resident
   * rows that is `ResidentRows.stepFresh`'s buffer (on onnxruntime-node the binding's own copy of
   * the top layer's new `h`, so no second buffer is allocated and filled); else a new buffer.
   */
  runFresh(rows: Int32Array, reset: Uint8Array, n: number, x: Float32Array): Float32Array {
    if (this.resident && !this.withHead) {
      const slab = this.resident;
      for (let j = 0; j < n; j++) if (reset[j] === 1) slab.zero(rows[j]);
      return slab.stepFresh(rows, n, x);
    }
    const y = new Float32Array(n * this.yLen);
    this.run(rows, reset, n, x, y, null);
    return y;
  }

  /**
   * {@link run} with `emit: 'all'` for a caller without an `h` of its own: the head's outputs go
   * into `y` (`n * yLen`) and the rows' new top-layer `h` comes back as a fresh buffer (`n *
   * hiddenSize`, yours to keep): on resident rows `ResidentRows.stepFresh`'s (on onnxruntime-node
   * the binding's own copy, so none is allocated and filled), else a new one.
   *
   * @example
   * ```ts
   * const h = step.runLendTop(rows, resets, n, x, y); // y: head outputs, h: top-layer h
   * ```
   */
  runLendTop(rows: Int32Array, reset: Uint8Array, n: number, x: Float32Array, y: Float32Array): Float32Array {
    if (this.resident && this.withHead) {
      const slab = this.resident;
      for (let j = 0; j < n; j++) if (reset[j] === 1) slab.zero(rows[j]);
      const top = slab.stepFresh(rows, n, x);
      this.model.headInPlace(this.topState(n, top), y);
      return top;
    }
    const h = new Float32Array(n * this.H);
    this.run(rows, reset, n, x, y, h);
    return h;
  }

  /**
   * The inputs of an `n`-row batch (`x`, `n * inputSize` floats, `n` at most `maxBatch`) where
   * {@link run} reads them fastest, checked: with resident rows copied into kernel memory and
   * checked there in SIMD (`ResidentRows.stage`), else `x` itself after a check in JavaScript.
   * Null when some value is NaN or ±Infinity. A new key's row may move kernel memory: stage again after one.
   */
  stage(x: Float32Array, n: number): Float32Array | null {
    if (this.resident) return this.resident.stage(x, n);
    const floats = n * this.I;
    const own = x.length === floats ? x : x.subarray(0, floats);
    return allFinite(own) ? own : null;
  }

  /** A batch state whose top layer is `top` (all the head reads). */
  private topState(n: number, top: Float32Array): ModelState {
    const h: Float32Array[] = new Array(this.L);
    h[this.L - 1] = top;
    return { batch: n, h, c: null };
  }
}

/**
 * Whether every value of `x` is finite, in one pass over its bits: a float is NaN or ±Infinity
 * exactly when its exponent bits are all ones, and adding one exponent step to those bits carries
 * into the sign bit only then, so OR-ing `(bits & exponent) + step` over the block leaves the
 * sign bit set iff some value is not finite. Integer work in four independent lanes (about 2x
 * faster than testing value by value, measured on a 40k-float block).
 */
function allFinite(x: Float32Array): boolean {
  const bits = new Int32Array(x.buffer, x.byteOffset, x.length);
  const n = bits.length;
  const E = 0x7f800000;
  const S = 0x00800000;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    a |= (bits[i] & E) + S;
    b |= (bits[i + 1] & E) + S;
    c |= (bits[i + 2] & E) + S;
    d |= (bits[i + 3] & E) + S;
  }
  for (; i < n; i++) a |= (bits[i] & E) + S;
  return (a | b | c | d) >= 0;
}
