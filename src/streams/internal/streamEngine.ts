import { createFusedStepper } from '../../kernels/fusedStepper.js';
import type { RecurrentModel } from '../../cells/model.js';
import { restoreState, snapshotState, type StateSnapshot } from '../../cells/stateSnapshot.js';
import { createTensorStreamEngine } from '../../tensors/tensorStreamEngine.js';

/** The per-subscription state and step of one stream, on either compute engine. */
export interface StreamEngine {
  /** Advances the state by one input vector; returns fresh copies of the top `h` and head output. */
  step(x: ArrayLike<number>): { h: Float32Array; y: Float32Array | null };
  snapshot(): StateSnapshot;
  restore(snapshot: StateSnapshot): void;
  /** Back to the initial state. */
  reset(): void;
  /** Frees everything the engine holds (tensors). Safe to call twice. */
  dispose(): void;
}

/** Which compute path a stream steps with. */
export type EngineName = 'fused' | 'tfjs';

/**
 * Creates the engine for one stream. `initial` (already validated) is where it starts and what
 * `reset()` returns to; zeros when null. `'tfjs'` needs TensorFlow.js loaded (`initBackend()`).
 */
export function createStreamEngine(model: RecurrentModel, engine: EngineName, initial: StateSnapshot | null): StreamEngine {
  return engine === 'tfjs' ? createTensorStreamEngine(model, initial) : fusedEngine(model, initial);
}

function fusedEngine(model: RecurrentModel, initial: StateSnapshot | null): StreamEngine {
  const stepper = createFusedStepper(model);
  const state = model.createState(1);
  const y = model.head ? new Float32Array(model.head.outputSize) : null;
  const reset = () => {
    for (const a of state.h) a.fill(0);
    if (state.c) for (const a of state.c) a.fill(0);
    if (initial) restoreState(model, state, initial);
  };
  reset();
  return {
    step(x) {
      const h = stepper.stepInPlace(state, x).slice();
      return { h, y: y ? stepper.headInPlace(state, y).slice() : null };
    },
    snapshot: () => snapshotState(model, state),
    restore: (s) => restoreState(model, state, s),
    reset,
    dispose() {},
  };
}
