export {
  recurrent,
  type RecurrentInput,
  type SequenceEvent,
  type RecurrentEmit,
  type RecurrentStep,
  type RecurrentOptions,
} from './recurrent.js';
export { RecurrentControl } from './recurrentControl.js';
export { recurrentByKey, type RecurrentByKeyOptions, type KeyedEvent, type KeyedCheckpointOptions, type KeyedOutput, type Eviction, type EvictionReason, type KeyedStats } from './recurrentByKey.js';
export { recurrentByKeyBatch, type RecurrentByKeyBatchOptions, type KeyedBlock, type KeyedOutputBlock, type KeyedBlockRow } from './recurrentByKeyBatch.js';
export { KeyedRecurrentControl } from './keyedRecurrentControl.js';
export { MemoryStateStore } from './memoryStateStore.js';
export type { StateStore } from './stateStore.js';
export type { KeyedCheckpoint } from './internal/keyedCheckpoint.js';
export { standardize, StandardizeControl, type StandardizeOptions, type StandardizeSnapshot, type StandardizeKeyState, type StandardizeInput, type Standardized } from './standardize.js';
export { trainOnline, type TrainInput, type TrainEvent, type TrainPrediction, type TrainUpdate, type TrainSkip, type TrainOnlineOptions } from './trainOnline.js';
