export type { CellKind, HeadActivation, HeadWeights, LayerWeights, ModelState } from './types.js';
export type { CellDefinition } from './cellDefinition.js';
export { sigmoid } from './cellDefinition.js';
export { rnn } from './rnn.js';
export { lstm } from './lstm.js';
export { gru } from './gru.js';
export { cellFor } from './cellFor.js';
export { stepLayer, createStepScratch, type StepScratch } from './stepLayer.js';
export { applyHead } from './head.js';
export { seededRandom } from './random.js';
export {
  RecurrentModel,
  resolveConfig,
  nest,
  type ModelConfig,
  type ResolvedModelConfig,
  type CreateModelOptions,
  type Parameter,
  type ModelJSON,
  type NestedNumbers,
} from './model.js';
export { snapshotState, restoreState, type StateSnapshot } from './stateSnapshot.js';
export { validateInput } from './validateInput.js';
export { runSequence, type RunSequenceOptions, type SequenceResult } from './runSequence.js';
export { loadSafetensors, loadStateDict, type StateDict, type LoadStateDictOptions } from './stateDict.js';
export { parseSafetensors, safetensorsMetadata, writeSafetensors, type SafetensorsEntry } from './safetensors.js';
export { loadOnnx } from './onnxImport.js';
export { fromOnnxGateOrder, onnxLayerWeights, ONNX_GATE_ORDER, toOnnxGateOrder } from './onnxGateOrder.js';
