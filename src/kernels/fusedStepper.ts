import { createWasmStepper } from './wasmStepper.js';
import type { RecurrentModel } from '../cells/model.js';
import type { FusedStepper } from './fusedStepperType.js';

export type { FusedStepper } from './fusedStepperType.js';

/**
 * The fastest fused step engine available for `model`: the WebAssembly SIMD128 kernel
 * (`kind: 'wasm-simd'`, float32 accumulation, see `src/kernels/gatesKernel.c`) when the runtime
 * supports it, else the JavaScript float loops (`kind: 'js'`, float64 accumulation). Both match
 * PyTorch within `1e-5 + 1e-4 * |ref|`. Set the environment variable `SEQSTREAM_KERNEL=js` to force
 * the JavaScript loops (read when the stepper is created). On Node with 2+ cores the kernel splits
 * large batches (2M+ multiply-adds) with a process-wide worker thread, bit-identically;
 * `SEQSTREAM_THREADS=1` turns that off (see `createWasmStepper`'s `threads` option).
 *
 * @example
 * ```ts
 * const stepper = createFusedStepper(model);
 * const state = model.createState(64);
 * stepper.stepInPlace(state, inputs64xI);
 * ```
 */
export function createFusedStepper(model: RecurrentModel): FusedStepper {
  if (kernelPreference() !== 'js') {
    const wasm = createWasmStepper(model);
    if (wasm) return wasm;
  }
  return createJsStepper(model);
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

function kernelPreference(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.SEQSTREAM_KERNEL;
}
