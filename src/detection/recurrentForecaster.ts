import { RecurrentModel, type ModelJSON } from '../cells/model.js';
import type { CellKind } from '../cells/types.js';
import { adam } from '../training/optimizers/adam.js';
import type { Optimizer, OptimizerJSON } from '../training/optimizers/optimizer.js';
import { optimizerFromJSON } from '../training/optimizers/optimizerFromJSON.js';
import { createFusedTbpttEngine } from '../training/fusedTbpttEngine.js';
import { learnWindow } from '../training/learnWindow.js';
import type { TbpttEngine } from '../training/tbpttEngine.js';

/** Options of {@link RecurrentForecaster}. */
export interface RecurrentForecasterOptions {
  /** Features per step (the value first, then context such as time of day). */
  inputSize: number;
  /** Cell kind. Default `'gru'`. */
  cell?: CellKind;
  /** Hidden size. Default 8. */
  hiddenSize?: number;
  /** TBPTT window: update every `window` steps through the last `window` steps (k1 = k2). Default 16. */
  window?: number;
  /** Adam learning rate. Default 0.01. */
  learningRate?: number;
  /** Global gradient-norm clip. Default 1. */
  clipGradNorm?: number;
  /** Weight initialisation seed. Default 1. */
  seed?: number;
}

/** Plain-JSON state of a {@link RecurrentForecaster}: weights, optimizer and the open window. */
export interface RecurrentForecasterJSON {
  model: ModelJSON;
  optimizer: OptimizerJSON;
  /** Online state at the start of the open window, per layer. */
  startH: number[][];
  startC: number[][] | null;
  /** Inputs of the steps taken since the window opened, flat. */
  inputs: number[];
  /** Their targets (the value that followed each step; the last is not known yet). */
  targets: number[];
  prediction: number | null;
}

/**
 * A one-step-ahead forecaster of one stream: a small recurrent model (seqstream's own cells) that
 * learns online by truncated BPTT on the fused engine, each step's target being the next value.
 *
 * Algorithm, per observation (value v, features f):
 * 1. v is the target of the previous step (`engine.labelLast`).
 * 2. If a window is due (every `window` steps), backpropagate through it and step Adam
 *    (`learnWindow`, clipped); then remember the online state as the new window's start.
 * 3. Step the model on f; its head output is the forecast of the next value.
 * Everything since the window opened (its start state, inputs, targets) is kept, so a snapshot
 * restores exactly: a restore re-steps those few inputs from the start state with the same weights.
 *
 * @example
 * ```ts
 * const forecaster = new RecurrentForecaster({ inputSize: 1, hiddenSize: 8, seed: 1 });
 * for (const v of [0.1, 0.2, 0.3]) {
 *   const expected = forecaster.prediction; // NaN before the first observation
 *   forecaster.observe(v, [v]);
 * }
 * ```
 */
export class RecurrentForecaster {
  private readonly model: RecurrentModel;
  private readonly optimizer: Optimizer;
  private readonly engine: TbpttEngine;
  private readonly grads: Float64Array[];
  private readonly inputSize: number;
  private readonly window: number;
  private readonly clip: number;
  private readonly inputs: Float64Array;
  private readonly targets: Float64Array;
  private open = 0;
  /** Online state at the start of the open window (views into the forecaster's one buffer). */
  private readonly startH: Float64Array[];
  private readonly startC: Float64Array[] | null;
  private predicted = NaN;

  constructor(options: RecurrentForecasterOptions, restored?: RecurrentForecasterJSON) {
    const hiddenSize = options.hiddenSize ?? 8;
    this.inputSize = options.inputSize;
    this.window = options.window ?? 16;
    this.clip = options.clipGradNorm ?? 1;
    this.model = restored
      ? RecurrentModel.fromJSON(restored.model)
      : RecurrentModel.create({ cell: options.cell ?? 'gru', inputSize: this.inputSize, hiddenSize, head: { outputSize: 1 }, seed: options.seed ?? 1 });
    this.optimizer = restored ? optimizerFromJSON(restored.optimizer) : adam({ lr: options.learningRate ?? 0.01 });
    // The JavaScript loops: at this size they are as fast as the WebAssembly kernel, and each
    // engine then costs only its buffers (thousands of keys, one engine each).
    this.engine = createFusedTbpttEngine(this.model, { k1: this.window, k2: this.window, loss: 'mse', kernel: 'js', compact: true });
    this.grads = sharedGradients(this.model);
    // One backing store for the open window: its inputs, targets and start state.
    const state = this.engine.state();
    const stateSizes = [...state.h, ...(state.c ?? [])].map((a) => a.length);
    const open = new Float64Array(this.window * (this.inputSize + 1) + stateSizes.reduce((a, b) => a + b, 0));
    let next = 0;
    const view = (n: number) => open.subarray(next, (next += n));
    this.inputs = view(this.window * this.inputSize);
    this.targets = view(this.window);
    this.startH = state.h.map((a) => view(a.length));
    this.startC = state.c ? state.c.map((a) => view(a.length)) : null;
    this.remember(state);
    if (restored) this.replay(restored);
  }

  /** Forecast of the next value (NaN before the first observation). */
  get prediction(): number {
    return this.predicted;
  }

  /** Feeds one observation: `value` is the target of the previous step, `features` the next input. */
  observe(value: number, features: ArrayLike<number>): void {
    const e = this.engine;
    if (this.open > 0) {
      TARGET[0] = value;
      e.labelLast(TARGET);
      this.targets[this.open - 1] = value;
      if (e.windowDue()) {
        const out = learnWindow(this.model, e, this.grads, { optimizer: this.optimizer, clipGradNorm: this.clip });
        // A non-finite window keeps the weights and restarts the state from zeros (trainOnline does the same).
        if (out.status === 'non_finite') e.reset();
        this.remember(e.state());
        this.open = 0;
      }
    }
    for (let k = 0; k < this.inputSize; k++) this.inputs[this.open * this.inputSize + k] = features[k];
    this.open++;
    e.step(features, null, Y);
    this.predicted = Y[0];
  }

  /** The state as plain JSON (exact). */
  toJSON(): RecurrentForecasterJSON {
    return {
      model: this.model.toJSON(),
      optimizer: this.optimizer.toJSON(),
      startH: this.startH.map((a) => Array.from(a)),
      startC: this.startC ? this.startC.map((a) => Array.from(a)) : null,
      inputs: Array.from(this.inputs.subarray(0, this.open * this.inputSize)),
      targets: Array.from(this.targets.subarray(0, Math.max(0, this.open - 1))),
      prediction: Number.isNaN(this.predicted) ? null : this.predicted,
    };
  }

  private remember(state: { h: Float64Array[]; c: Float64Array[] | null }): void {
    state.h.forEach((h, l) => this.startH[l].set(h));
    if (this.startC && state.c) state.c.forEach((c, l) => (this.startC as Float64Array[])[l].set(c));
  }

  /** Re-steps the open window from its start state: the same weights give the same tape and state. */
  private replay(json: RecurrentForecasterJSON): void {
    this.remember({ h: json.startH.map((a) => Float64Array.from(a)), c: json.startC ? json.startC.map((a) => Float64Array.from(a)) : null });
    this.engine.reset(this.startH, this.startC);
    const n = json.inputs.length / this.inputSize;
    const x = new Float64Array(this.inputSize);
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < this.inputSize; k++) x[k] = json.inputs[j * this.inputSize + k];
      this.inputs.set(x, j * this.inputSize);
      const target = j < n - 1 ? [json.targets[j]] : null;
      if (target) this.targets[j] = target[0];
      this.engine.step(x, target, Y);
    }
    this.open = n;
    this.predicted = json.prediction ?? NaN;
  }
}

/** One-value scratch shared by every forecaster (one thread): the step's forecast, the last step's target. */
const Y = new Float32Array(1);
const TARGET = new Float64Array(1);

/** Gradient buffers shared by the forecasters of one shape: a window's gradients are written in full, clipped and applied within one `observe`. */
const GRADIENTS = new Map<string, Float64Array[]>();

function sharedGradients(model: RecurrentModel): Float64Array[] {
  const sizes = model.parameters().map((p) => p.data.length);
  const shape = sizes.join('/');
  let grads = GRADIENTS.get(shape);
  if (!grads) {
    grads = sizes.map((n) => new Float64Array(n));
    GRADIENTS.set(shape, grads);
  }
  return grads;
}
