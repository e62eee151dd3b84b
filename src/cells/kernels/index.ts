export { createWasmStepper, gatesKernelModule } from './wasmStepper.js';
export { gatesKernelBase64 } from './gatesKernel.wasm.js';
