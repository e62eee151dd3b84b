import type { RecurrentModel } from '../cells/model.js';
import { restoreState, type StateSnapshot } from '../cells/stateSnapshot.js';
import { modelTensors } from './modelTensors.js';
import { headTensors, stepTensors, type TensorState } from './tensorStep.js';
import { tfjs } from './tfjsRuntime.js';

/** One stream's state as kept tensors, stepped with tfjs ops (the shape of the streams' engine). */
export interface TensorStreamEngine {
  /** One input vector in; fresh copies of the top `h` and the head output out. */
  step(x: ArrayLike<number>): { h: Float32Array; y: Float32Array | null };
  snapshot(): StateSnapshot;
  /** Checks `snapshot` on the float path first, so a bad one changes nothing. */
  restore(snapshot: StateSnapshot): void;
  reset(): void;
  /** Frees the state tensors; safe twice. The model's weight tensors stay (the model owns them). */
  dispose(): void;
}

/**
 * The `engine: 'tfjs'` state of one stream: `[1, H]` tensors per layer, each step in `tf.tidy`
 * with only the new state kept and the old one disposed. Starts at (and resets to) `initial`, or
 * zeros. Needs TensorFlow.js loaded (`await initBackend()`), else `SEQ_TFJS_NOT_LOADED` at once.
 *
 * @example
 * ```ts
 * await initBackend('wasm');
 * const engine = createTensorStreamEngine(model, null);
 * const { y } = engine.step([0.1, 0.2, 0.3]);
 * engine.dispose();
 * ```
 */
export function createTensorStreamEngine(model: RecurrentModel, initial: StateSnapshot | null): TensorStreamEngine {
  const tf = tfjs("engine: 'tfjs'");
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
      const weights = modelTensors(model);
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
