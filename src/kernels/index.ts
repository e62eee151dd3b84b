export { createFusedStepper, createJsStepper, type FusedStepper } from './fusedStepper.js';
export { createWasmStepper, gatesKernelShapeOf, type WasmStepperOptions } from './wasmStepper.js';
export { GatesKernel, GATES_KERNEL_KIND, gatesKernelModule, type GatesKernelShape, type GatesKernelWeights } from './gatesKernel.js';
export { kernelModule } from './kernelModule.js';
export { gatesKernelBase64 } from './gatesKernel.wasm.js';
export { shutdownStepPool, startStepPool, stepPoolStats, stepThreads, type StepPoolStats } from './stepPool.js';
export { withTrainKernel, jsTrainKernel, dot, type TrainKernel, type MatVec, type Float64Allocator } from './trainKernel.js';
