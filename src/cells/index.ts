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
  type ModelTensors,
  type NestedNumbers,
} from './model.js';
export { snapshotState, restoreState, type StateSnapshot } from './stateSnapshot.js';
export { validateInput } from './validateInput.js';
export { stepTensors, headTensors, type TensorState } from './tensorStep.js';
export { runSequence, type RunSequenceOptions, type SequenceResult } from './runSequence.js';
export { loadStateDict, type StateDict, type LoadStateDictOptions } from './stateDict.js';
export { parseSafetensors, writeSafetensors, type SafetensorsEntry } from './safetensors.js';
export { createFusedStepper, createJsStepper, type FusedStepper } from './fusedStepper.js';
export { shutdownStepPool, startStepPool, stepPoolStats, stepThreads, type StepPoolStats } from './kernels/stepPool.js';
export { CharTokenizer, type CharTokenizerOptions, type CharTokenizerBuildOptions } from './charTokenizer.js';
export { WordTokenizer, DEFAULT_WORD_PATTERN, type WordTokenizerOptions, type WordTokenizerBuildOptions } from './wordTokenizer.js';
export { Vocabulary, type TokenizerJSON, type VocabularyOptions, type BuildVocabularyOptions } from './vocabulary.js';
export { Embedding, type EmbeddingOptions, type EmbeddingLoadOptions, type EmbeddingJSON } from './embedding.js';
export { lossRow, lossDivisor, outputLoss, LOSS_HEADS, type LossKind } from './losses.js';
export { clipGradNorm, type ClipResult } from './clipGradNorm.js';
export { paramBuffers, stateToJSON, stateFromJSON, type Optimizer, type OptimizerJSON } from './optimizer.js';
export { numberOption } from './optimizerOptions.js';
export { sgd, type SgdOptions } from './sgd.js';
export { adam, type AdamOptions } from './adam.js';
export { rmsprop, type RmspropOptions } from './rmsprop.js';
export { optimizerFromJSON, createOptimizer, type OptimizerSpec } from './optimizerFromJSON.js';
export { createActivationTape, type ActivationTape } from './activationTape.js';
export { recordStep } from './recordStep.js';
export { withTrainKernel, jsTrainKernel, dot, type TrainKernel, type MatVec, type Float64Allocator } from './trainKernel.js';
export { backwardWindow, createBpttScratch, type BpttScratch, type WindowLoss } from './bptt.js';
export type { TbpttEngine, TbpttEngineOptions, TbpttWindow } from './tbpttEngine.js';
export { createFusedTbpttEngine } from './fusedTbpttEngine.js';
export { createTensorTbpttEngine } from './tensorTbpttEngine.js';
export { createTbpttEngine } from './createTbpttEngine.js';
export { learnWindow, type LearnWindowOptions, type WindowOutcome } from './learnWindow.js';
export { createPackedWeights, refreshPackedWeights, type PackedWeights } from './packedWeights.js';
export { trainingCheckpointToJSON, trainingCheckpointFromJSON, type TrainingCheckpoint, type TrainingCheckpointJSON } from './trainingCheckpoint.js';
