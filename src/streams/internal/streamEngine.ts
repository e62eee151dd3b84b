import * as tf from '@tensorflow/tfjs';
import { createFusedStepper } from '../../kernels/fusedStepper.js';
import type { RecurrentModel } from '../../cells/model.js';
import { restoreState, snapshotState, type StateSnapshot } from '../../cells/stateSnapshot.js';
import { headTensors, stepTensors, type TensorState } from '../../cells/tensorStep.js';

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
 * `reset()` returns to; zeros when null.
 */
export function createStreamEngine(model: RecurrentModel, engine: EngineName, initial: StateSnapshot | null): StreamEngine {
  return engine === 'tfjs' ? tensorEngine(model, initial) : fusedEngine(model, initial);
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

function tensorEngine(model: RecurrentModel, initial: StateSnapshot | null): StreamEngine {
  const { hiddenSize: H, inputSize: I, numLayers: L } = model.config;
  const hasC = model.cellDefinition.hasCellState;
  let state: TensorState | null = null;
  const set = (s: StateSnapshot | null) => {
    const next: TensorState = {
      h: Array.from({ length: L }, (_, k) => tf.keep(s ? tf.tensor2d(s.h[k], [1, H]) : tf.zeros([1, H]))),
      c: hasC ? Array.from({ length: L }, (_, k) => tf.keep(s && s.c ? tf.tensor2d(s.c[k], [1, H]) : tf.zeros([1, H]))) : null,
    };
    dispose();
    state = next;
  };
  const dispose = () => {
    if (!state) return;
    tf.dispose(state.h);
    if (state.c) tf.dispose(state.c);
    state = null;
  };
  const current = (): TensorState => {
    if (!state) set(initial);
    return state as TensorState;
  };
  return {
    step(x) {
      const old = current();
      const weights = model.tensors();
      let h: Float32Array = new Float32Array(0);
      let y: Float32Array | null = null;
      // Only the new state survives the scope; the old one is disposed right after.
      const kept = tf.tidy(() => {
        const s = stepTensors(model.cellDefinition, weights, tf.tensor2d(Float32Array.from(x), [1, I]), old);
        const top = s.h[s.h.length - 1];
        h = top.dataSync().slice() as Float32Array;
        if (weights.head) y = headTensors(weights, top).dataSync().slice() as Float32Array;
        return [...s.h, ...(s.c ?? [])];
      });
      dispose();
      state = { h: kept.slice(0, L), c: hasC ? kept.slice(L) : null };
      return { h, y };
    },
    snapshot() {
      const s = current();
      const snap: StateSnapshot = {
        format: 'seqstream-state',
        version: 1,
        cell: model.config.cell,
        hiddenSize: H,
        numLayers: L,
        h: s.h.map((t) => Array.from(t.dataSync())),
      };
      if (s.c) snap.c = s.c.map((t) => Array.from(t.dataSync()));
      return snap;
    },
    restore(s) {
      // Validate through the float path first so a bad snapshot changes nothing.
      restoreState(model, model.createState(1), s);
      set(s);
    },
    reset: () => set(initial),
    dispose,
  };
}
