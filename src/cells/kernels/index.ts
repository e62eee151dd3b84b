export { createWasmStepper, gatesKernelModule } from './wasmStepper.js';
export { gatesKernelBase64 } from './gatesKernel.wasm.js';
export { shutdownStepPool, startStepPool, stepPoolStats, stepThreads, type StepPoolStats } from './stepPool.js';
export { type WasmStepperOptions } from './wasmStepper.js';
