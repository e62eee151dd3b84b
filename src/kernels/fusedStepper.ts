import { createAutoStepper, resolveEngine, type StepEngine } from './autoStepper.js';
import { requireOnnxStepper } from './onnxEngine.js';
import { createWasmStepper } from './wasmStepper.js';
import type { RecurrentModel } from '../cells/model.js';
import type { FusedStepper } from './fusedStepperType.js';

export type { FusedStepper } from './fusedStepperType.js';

/** Options of {@link createFusedStepper}. */
export interface FusedStepperOptions {
  /**
   * `'auto'`: the WebAssembly kernel, and onnxruntime-node (optional peer dependency) for batches of
   * 1M+ multiply-adds when it is installed (`NATIVE_MIN_WORK`); `'wasm'`: the WebAssembly kernel
   * for every batch; `'native'`: onnxruntime-node for every batch (throws `SEQ_ENGINE_UNAVAILABLE`
   * when it cannot load); `'js'`: the JavaScript float loops. Default: the `SEQSTREAM_ENGINE`
   * environment variable (read when the stepper is created), else `'auto'`.
   */
  readonly engine?: StepEngine;
}

/**
 * The fastest fused step engine available for `model`: the WebAssembly SIMD128 kernel
 * (`kind: 'wasm-simd'`, float32 accumulation, see `src/kernels/gatesKernel.c`) when the runtime
 * supports it, else the JavaScript float loops (`kind: 'js'`, float64 accumulation); with
 * onnxruntime-node installed, batches of 1M+ multiply-adds go to its native LSTM/GRU/RNN operators
 * (see `createAutoStepper` and the `engine` option). All match PyTorch within
 * `1e-5 + 1e-4 * |ref|`. `SEQSTREAM_KERNEL=js` still forces the JavaScript loops. On Node with 2+
 * cores the kernel splits large batches (2M+ multiply-adds) with a process-wide worker thread,
 * bit-identically; `SEQSTREAM_THREADS=1` turns that off (and makes onnxruntime use one thread).
 *
 * @example
 * ```ts
 * const stepper = createFusedStepper(model);
 * const state = model.createState(64);
 * stepper.stepInPlace(state, inputs64xI);
 * ```
 */
export function createFusedStepper(model: RecurrentModel, options: FusedStepperOptions = {}): FusedStepper {
  const engine = resolveEngine(options.engine);
  if (engine === 'js') return createJsStepper(model);
  if (engine === 'native') return requireOnnxStepper(model);
  const wasm = createWasmStepper(model) ?? createJsStepper(model);
  return engine === 'auto' ? createAutoStepper(model, wasm) : wasm;
}

/**
 * The JavaScript float-loop stepper (float64 accumulation), the reference the kernels are tested against.
 *
 * @example
 * ```ts
 * const reference = createJsStepper(model);
 * reference.stepInPlace(state, x);
 * ```
 */
export function createJsStepper(model: RecurrentModel): FusedStepper {
  return {
    kind: 'js',
    stepInPlace: (state, x) => model.stepInPlace(state, x),
    headInPlace: (state, y) => model.headInPlace(state, y),
  };
}
