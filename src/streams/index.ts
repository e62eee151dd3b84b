export {
  recurrent,
  type RecurrentInput,
  type SequenceEvent,
  type RecurrentEmit,
  type RecurrentStep,
  type RecurrentOptions,
} from './recurrent.js';
export { RecurrentControl } from './recurrentControl.js';
