import { integerOption } from '../options.js';
import type { RecurrentModel } from '../cells/model.js';
import type { ModelState } from '../cells/types.js';
import type { FusedStepper } from './fusedStepperType.js';
import { GATES_KERNEL_KIND, GatesKernel, gatesKernelModule, type GatesKernelShape } from './gatesKernel.js';
import { modelStateRows, stepSplit, stepThreads } from './stepPool.js';

/**
 * Smallest batch work (rows x multiply-adds per row) split across threads (here and in `ResidentRows`). Break-even measured on an
 * idle 2-core machine is ~0.6M (LSTM I=40 H=32 at 64 rows: 0.97x); 2M leaves room for a busy machine
 * where the worker wakes later (H=32: 218+ rows, 1.5x at 256; H=128: 23+ rows, 1.4x at 32).
 *
 * @example
 * ```ts
 * const split = rows * rowWork(model) >= SPLIT_MIN_WORK;
 * ```
 */
export const SPLIT_MIN_WORK = 2_000_000;

/**
 * The kernel shape of `model` (what a worker needs to build its own instance of the kernel).
 *
 * @example
 * ```ts
 * gatesKernelShapeOf(RecurrentModel.create({ cell: 'gru', inputSize: 4, hiddenSize: 8 })).layerInputs; // [4]
 * ```
 */
export function gatesKernelShapeOf(model: RecurrentModel): GatesKernelShape {
  const { cell, hiddenSize, inputSize } = model.config;
  return {
    kind: GATES_KERNEL_KIND[cell],
    inputSize,
    hiddenSize,
    hasCellState: model.cellDefinition.hasCellState,
    layerInputs: model.layers.map((l) => l.inputSize),
  };
}

/**
 * One kernel instance per model (shared by all its steppers: JavaScript runs one step at a time and
 * every step copies its state in and out), repacking the weights whenever `model.version` moves.
 */
class ModelKernel {
  private readonly kernel: GatesKernel;
  private readonly shape: GatesKernelShape;
  private version = -1;
  /** Multiply-adds of one row through every layer: how much work a batch is, to decide a split. */
  private readonly rowWork: number;

  constructor(
    private readonly model: RecurrentModel,
    private readonly module: WebAssembly.Module,
  ) {
    this.shape = gatesKernelShapeOf(model);
    this.kernel = new GatesKernel(module, this.shape);
    const { hiddenSize } = model.config;
    this.rowWork = model.layers.reduce((sum, l) => sum + model.cellDefinition.gates * hiddenSize * (l.inputSize + hiddenSize), 0);
  }

  /** Steps all rows, split across `threads` threads when the batch is large enough to pay. */
  step(state: ModelState, x: ArrayLike<number>, threads: number): Float32Array {
    const B = state.batch;
    const top = state.h[state.h.length - 1];
    if (B === 0) return top;
    if (threads < 2 || B * this.rowWork < SPLIT_MIN_WORK) {
      this.stepRows(state, x, 0, B);
      return top;
    }
    const job = { model: this.model, shape: this.shape, module: this.module, batch: B, ...modelStateRows(this.model, state, x) };
    if (!stepSplit(job, threads, (r0, n) => this.stepRows(state, x, r0, n))) this.stepRows(state, x, 0, B);
    return top;
  }

  /** Steps rows `[r0, r0 + n)` of `state` (inputs from the same rows of `x`) on this thread. */
  private stepRows(state: ModelState, x: ArrayLike<number>, r0: number, n: number): void {
    if (this.version !== this.model.version) {
      this.kernel.setWeights(this.model.layers);
      this.version = this.model.version;
    }
    this.kernel.stepRows(x, state.h, state.c, r0, n);
  }
}

/** Options of {@link createWasmStepper}. */
export interface WasmStepperOptions {
  /**
   * Threads that step one large batch (this one plus `threads - 1` process-wide worker threads, each
   * with its own kernel instance; results are bit-identical to one thread). Batches under 2M
   * multiply-adds (LSTM I=40: H=32 under 218 rows, H=128 under 23 rows) always run on the caller's
   * thread. Default: the `SEQSTREAM_THREADS` environment variable (read when the stepper is created),
   * else 2 on machines with 2+ cores, else 1.
   */
  readonly threads?: number;
}

const contexts = new WeakMap<RecurrentModel, ModelKernel>();

/**
 * A {@link FusedStepper} running the WebAssembly SIMD128 kernel (`kind: 'wasm-simd'`), or `null`
 * when the runtime cannot run it. Accumulates in float32 (the JavaScript loops use float64); results
 * stay within `1e-5 + 1e-4 * |ref|` of PyTorch's float64 references. Weights are packed into the
 * kernel's memory once per `model.version`; memory grows to the largest batch stepped.
 *
 * @example
 * ```ts
 * const stepper = createWasmStepper(model) ?? createFusedStepper(model);
 * stepper.stepInPlace(state, x);
 * ```
 */
export function createWasmStepper(model: RecurrentModel, options: WasmStepperOptions = {}): FusedStepper | null {
  const threads = integerOption('threads', options.threads, stepThreads(), 1);
  const module = gatesKernelModule();
  if (!module) return null;
  let ctx = contexts.get(model);
  if (!ctx) {
    ctx = new ModelKernel(model, module);
    contexts.set(model, ctx);
  }
  const context = ctx;
  return {
    kind: 'wasm-simd',
    stepInPlace: (state, x) => context.step(state, x, threads),
    headInPlace: (state, y) => model.headInPlace(state, y),
  };
}
