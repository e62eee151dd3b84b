import { resolveEngine, type StepEngine } from '../../kernels/autoStepper.js';
import { createFusedStepper, type FusedStepper } from '../../kernels/fusedStepper.js';
import { requireOnnxStepper } from '../../kernels/onnxEngine.js';
import { createResidentRows, type ResidentRows } from '../../kernels/residentRows.js';
import type { RecurrentModel } from '../../cells/model.js';
import type { ModelState } from '../../cells/types.js';
import { StateRows, type KeyedRowStore } from './stateRows.js';

/**
 * What one keyed sub-batch step produced: fresh buffers, one range per batch row.
 *
 * @example
 * ```ts
 * const { y, yLen } = step.run(rows, resets, n, x);
 * const firstOutput = new Float32Array(y, 0, yLen);
 * ```
 */
export interface KeyedStepResult {
  /** `n * yLen` floats: head outputs, or the top layer's `h` with `emit: 'hidden'`. */
  readonly y: ArrayBuffer;
  readonly yLen: number;
  /** `n * hiddenSize` floats of the top layer's `h`, only with `emit: 'all'`. */
  readonly h: ArrayBuffer | null;
}

/**
 * Where the keyed table's state lives and how a sub-batch of its rows is stepped. With the
 * WebAssembly kernel available (engines `'auto'`, `'wasm'`, `'native'`), the rows live in the
 * kernel's memory ({@link ResidentRows}) and are stepped by index where they are; batches for
 * onnxruntime-node are gathered into its input tensors and scattered back from its preallocated
 * outputs. Otherwise (engine `'js'`, or no WebAssembly SIMD) they live in plain arrays
 * ({@link StateRows}) and are gathered into a batch area around each fused step. Either way a
 * row's result does not depend on the batch it is in, so crash replay stays bit-exact.
 *
 * @example
 * ```ts
 * const step = new KeyedStep(model, 1024, 'hidden', undefined);
 * table = new KeyTable(step.rows, tableOptions);
 * const out = step.run(rows, resets, n, x); // new Float32Array(out.y, j * out.yLen * 4, out.yLen) is batch row j's output
 * ```
 */
export class KeyedStep {
  /** The key rows (grown by the key table). */
  readonly rows: KeyedRowStore;
  private readonly resident: ResidentRows | null;
  private readonly plain: StateRows | null;
  private readonly stepper: FusedStepper | null;
  private readonly H: number;
  private readonly O: number;
  private readonly L: number;
  private readonly top: Float32Array;
  private readonly withHead: boolean;

  constructor(
    private readonly model: RecurrentModel,
    maxBatch: number,
    private readonly emit: 'output' | 'hidden' | 'all',
    engine: StepEngine | undefined,
  ) {
    const resolved = resolveEngine(engine);
    if (resolved === 'native') requireOnnxStepper(model); // SEQ_ENGINE_UNAVAILABLE now, not at the first batch
    const { hiddenSize, numLayers, head } = model.config;
    this.H = hiddenSize;
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

  /**
   * Steps the `n` distinct key rows `rows[0..n)` (row `j` zeroed first when `reset[j]` is 1) with
   * inputs `x` (`n * inputSize`), and returns their outputs in fresh buffers.
   */
  run(rows: Int32Array, reset: Uint8Array, n: number, x: Float32Array): KeyedStepResult {
    const H = this.H;
    const yLen = this.withHead ? this.O : H;
    const y = new Float32Array(n * yLen);
    const h = this.emit === 'all' ? new Float32Array(n * H) : null;
    if (this.resident) {
      const slab = this.resident;
      for (let j = 0; j < n; j++) if (reset[j] === 1) slab.zero(rows[j]);
      slab.step(rows, n, x);
      // The top rows go once into the buffer the outputs keep (or a scratch the head reads).
      const top = this.withHead ? (h ?? this.top.subarray(0, n * H)) : y;
      slab.top(rows, n, top);
      if (this.withHead) this.model.headInPlace(this.topState(n, top), y);
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
    return { y: y.buffer, yLen, h: h ? h.buffer : null };
  }

  /** A batch state whose top layer is `top` (all the head reads). */
  private topState(n: number, top: Float32Array): ModelState {
    const h: Float32Array[] = new Array(this.L);
    h[this.L - 1] = top;
    return { batch: n, h, c: null };
  }
}
