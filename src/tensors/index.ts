export { loadTfjs, isTfjsLoaded } from './loadTfjs.js';
export { tfjs } from './tfjsRuntime.js';
export { initBackend, currentBackend, availableBackends, type BackendName } from './backend.js';
export { modelTensors, type ModelTensors } from './modelTensors.js';
export { combineTensors } from './cellTensors.js';
export { stepTensors, headTensors, type TensorState } from './tensorStep.js';
export { runSequenceTensors } from './runSequenceTensors.js';
export { createTensorStreamEngine, type TensorStreamEngine } from './tensorStreamEngine.js';
