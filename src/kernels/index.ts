export { createFusedStepper, createJsStepper, type FusedStepper } from './fusedStepper.js';
export { createWasmStepper, gatesKernelModule, type WasmStepperOptions } from './wasmStepper.js';
export { gatesKernelBase64 } from './gatesKernel.wasm.js';
export { shutdownStepPool, startStepPool, stepPoolStats, stepThreads, type StepPoolStats } from './stepPool.js';
export { withTrainKernel, jsTrainKernel, dot, type TrainKernel, type MatVec, type Float64Allocator } from './trainKernel.js';
