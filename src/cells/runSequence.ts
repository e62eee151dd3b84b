import { InvalidInputError, tfjsNotLoadedError } from '../errors.js';
import type { RecurrentModel } from './model.js';

/** A whole batch of sequences and its results, as nested arrays (PyTorch `batch_first` layout). */
export interface SequenceResult {
  /** Top layer `h` after every step, `[B, T, H]`. */
  output: number[][][];
  /** Head output after every step, `[B, T, O]` (only with a head). */
  y?: number[][][];
  /** Final `h` per layer, `[L, B, H]`. */
  hN: number[][][];
  /** Final `c` per layer, `[L, B, H]` (LSTM only). */
  cN?: number[][][];
}

/** Options of {@link runSequence}. */
export interface RunSequenceOptions {
  /** Initial `h`, `[L, B, H]`. Default zeros. */
  h0?: number[][][];
  /** Initial `c`, `[L, B, H]` (LSTM). Default zeros. */
  c0?: number[][][];
  /**
   * `'fused'` (float loops, default) or `'tfjs'` (tensor ops on the active backend; load
   * TensorFlow.js first with `await initBackend()`, else `SEQ_TFJS_NOT_LOADED`).
   */
  engine?: 'fused' | 'tfjs';
}

/** runSequence's tfjs path: same arguments after validation, state as flat `[B*H]` per layer. */
export type TensorSequencePath = (model: RecurrentModel, x: number[][][], h0: Float32Array[], c0: Float32Array[] | null) => SequenceResult;

/** Installed by `loadTfjs()` (src/tensors) once TensorFlow.js is loaded; cells never import tfjs. */
let tensorPath: TensorSequencePath | null = null;

/**
 * Installs the tfjs path of {@link runSequence} (internal: `loadTfjs()` calls it, so this room
 * reaches the tensor room without importing it).
 *
 * @example
 * ```ts
 * installTensorSequencePath(runSequenceTensors);
 * ```
 */
export function installTensorSequencePath(path: TensorSequencePath): void {
  tensorPath = path;
}

/**
 * Runs whole sequences `x` (`[B, T, I]`) through the model at once, like calling a PyTorch
 * `nn.LSTM(batch_first=True)` module, and returns outputs and final states as nested arrays.
 *
 * @example
 * ```ts
 * const { output, hN } = runSequence(model, [[[0.1, 0.2, 0.3], [0.0, 1.0, -1.0]]]); // B=1, T=2
 * ```
 */
export function runSequence(model: RecurrentModel, x: number[][][], options: RunSequenceOptions = {}): SequenceResult {
  const { inputSize: I, hiddenSize: H, numLayers: L } = model.config;
  const B = x.length;
  const T = B > 0 ? x[0].length : 0;
  for (const seq of x) {
    if (seq.length !== T) throw new InvalidInputError('SEQ_INPUT_SHAPE', `All sequences must have length ${T}, received ${seq.length}`, { expected: [B, T, I] });
    for (const v of seq) {
      if (v.length !== I) throw new InvalidInputError('SEQ_INPUT_SHAPE', `Input vectors must have shape [${I}], received [${v.length}]`, { expected: [I], received: [v.length] });
    }
  }
  const hasC = model.cellDefinition.hasCellState;
  const init = (s: number[][][] | undefined) => Array.from({ length: L }, (_, k) => Float32Array.from(s ? s[k].flat() : new Array(B * H).fill(0)));
  if (options.engine === 'tfjs') {
    if (!tensorPath) {
      throw tfjsNotLoadedError("runSequence() with engine 'tfjs'");
    }
    return tensorPath(model, x, init(options.h0), hasC ? init(options.c0) : null);
  }

  const state = { batch: B, h: init(options.h0), c: hasC ? init(options.c0) : null };
  const O = model.head?.outputSize ?? 0;
  const output = Array.from({ length: B }, () => [] as number[][]);
  const y = Array.from({ length: B }, () => [] as number[][]);
  const xt = new Float32Array(B * I);
  const yt = new Float32Array(B * O);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) xt.set(x[b][t], b * I);
    const top = model.stepInPlace(state, xt);
    if (model.head) model.headInPlace(state, yt);
    for (let b = 0; b < B; b++) {
      output[b].push(Array.from(top.subarray(b * H, (b + 1) * H)));
      if (model.head) y[b].push(Array.from(yt.subarray(b * O, (b + 1) * O)));
    }
  }
  const unflat = (arrs: Float32Array[]) => arrs.map((a) => Array.from({ length: B }, (_, b) => Array.from(a.subarray(b * H, (b + 1) * H))));
  const result: SequenceResult = { output, hN: unflat(state.h) };
  if (model.head) result.y = y;
  if (state.c) result.cN = unflat(state.c);
  return result;
}
