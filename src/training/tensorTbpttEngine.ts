import type * as Tfjs from '@tensorflow/tfjs';
import type { LossKind } from './losses.js';
import { lossDivisor } from './losses.js';
import type { RecurrentModel } from '../cells/model.js';
import type { TbpttEngine, TbpttEngineOptions, TbpttWindow } from './tbpttEngine.js';
import { engineWithSchedule, TbpttSchedule } from './tbpttSchedule.js';
import type { HeadActivation } from '../cells/types.js';
import { modelTensors, type ModelTensors } from '../tensors/modelTensors.js';
import { stepTensors } from '../tensors/tensorStep.js';
import { tfjs } from '../tensors/tfjsRuntime.js';

/** Loaded on the engine's creation (TensorFlow.js is imported on demand, never at module load). */
let tf: typeof Tfjs;

interface Slot {
  x: Float32Array;
  target: Float32Array;
  hasTarget: boolean;
  /** State before the step (kept tensors, owned by the slot). */
  h: Tfjs.Tensor2D[] | null;
  c: Tfjs.Tensor2D[] | null;
}

/**
 * The tfjs TBPTT engine: online steps with tfjs ops, and each window's gradients by tfjs autograd
 * (`tf.valueAndGrads`) over a re-run of the window from its saved (detached) entering state with
 * the current weights. Uses only ops whose gradients exist on the cpu and wasm backends (matMul,
 * add, mul, sub, sigmoid, tanh, relu, split, softmax/logSoftmax, abs, log1p, exp, sum).
 *
 * Algorithm:
 * 1. Step: `stepTensors` + head in `tf.tidy`; the new state is kept, the old one moves into the
 *    ring slot of this step (so the ring holds the state before each of the last k2 steps).
 * 2. Window: parameters become tensors (PyTorch layout); a function of them re-runs the window
 *    and returns the mean loss over the last k1 targets; `tf.valueAndGrads` differentiates it;
 *    gradients are read back into the caller's float64 arrays; everything else is disposed.
 * Tensors alive between calls: the current state and up to k2 saved states; `dispose` frees them.
 * Needs TensorFlow.js loaded (`await initBackend()`), else it throws `SEQ_TFJS_NOT_LOADED`.
 *
 * @example
 * ```ts
 * await initBackend('wasm');
 * const engine = createTensorTbpttEngine(model, { k1: 8, k2: 8, loss: 'mse' });
 * engine.step(x, target, y);
 * ```
 */
export function createTensorTbpttEngine(model: RecurrentModel, options: TbpttEngineOptions): TbpttEngine {
  tf = tfjs('The tfjs TBPTT engine');
  const { k1, k2, loss } = options;
  const B = options.batch ?? 1;
  const { hiddenSize: H, inputSize: I, numLayers: L } = model.config;
  const O = model.head ? model.head.outputSize : H;
  const lstm = model.cellDefinition.hasCellState;
  const activation: HeadActivation = model.head ? model.head.activation : 'identity';
  const zeros = () => Array.from({ length: L }, () => tf.keep(tf.zeros([B, H])) as Tfjs.Tensor2D);
  let hCur = zeros();
  let cCur: Tfjs.Tensor2D[] | null = lstm ? zeros() : null;
  const ring: Slot[] = Array.from({ length: k2 }, () => ({ x: new Float32Array(B * I), target: new Float32Array(B * O), hasTarget: false, h: null, c: null }));
  const schedule = new TbpttSchedule(k1, k2);

  const freeSlot = (slot: Slot) => {
    if (slot.h) tf.dispose(slot.h);
    if (slot.c) tf.dispose(slot.c);
    slot.h = slot.c = null;
  };

  return engineWithSchedule(schedule, {
    kind: 'tfjs',
    kernel: 'tfjs',
    batch: B,
    step(x, target, y) {
      const slot = ring[schedule.nextSlot];
      freeSlot(slot);
      for (let k = 0; k < B * I; k++) slot.x[k] = x[k];
      slot.hasTarget = target !== null;
      if (target) for (let k = 0; k < B * O; k++) slot.target[k] = target[k];
      const weights = modelTensors(model);
      let next: { h: Tfjs.Tensor2D[]; c: Tfjs.Tensor2D[] | null } = { h: [], c: null };
      const out = tf.tidy(() => {
        const s = stepTensors(model.cellDefinition, weights, tf.tensor2d(slot.x, [B, I]), { h: hCur, c: cCur });
        next = { h: s.h.map((t) => tf.keep(t)), c: s.c ? s.c.map((t) => tf.keep(t)) : null };
        return headOutput(weights, s.h[L - 1]);
      });
      y.set(out.dataSync());
      out.dispose();
      slot.h = hCur;
      slot.c = cCur;
      hCur = next.h;
      cCur = next.c;
      schedule.advance();
    },
    labelLast(target) {
      if (schedule.lastSlot < 0) return;
      const slot = ring[schedule.lastSlot];
      for (let k = 0; k < B * O; k++) slot.target[k] = target[k];
      slot.hasTarget = true;
    },
    backward(grads): TbpttWindow {
      const { start, length: n, lossStart, lossLength, first } = schedule.window();
      const slots = Array.from({ length: n }, (_, j) => ring[(first + j) % k2]);
      let targetSteps = 0;
      for (let j = n - lossLength; j < n; j++) if (slots[j].hasTarget) targetSteps++;
      const rows = targetSteps * B;
      const window = { start, length: n, lossStart, lossLength, loss: NaN, rows };
      if (rows === 0) return window;
      const divisor = lossDivisor(loss, rows, O);
      const params = model.parameters();
      const value = tf.tidy(() => {
        const paramTensors = params.map((p) => tf.tensor(p.data, p.shape as number[]));
        const f = (...ps: Tfjs.Tensor[]): Tfjs.Scalar => {
          const weights = weightsFrom(model, ps, activation);
          let state = { h: slots[0].h as Tfjs.Tensor2D[], c: slots[0].c };
          let total: Tfjs.Tensor = tf.scalar(0);
          for (let j = 0; j < n; j++) {
            state = stepTensors(model.cellDefinition, weights, tf.tensor2d(slots[j].x, [B, I]), state);
            if (j >= n - lossLength && slots[j].hasTarget) {
              total = tf.add(total, lossSum(loss, activation, preactivation(weights, state.h[L - 1]), tf.tensor2d(slots[j].target, [B, O])));
            }
          }
          return tf.div(total, divisor) as Tfjs.Scalar;
        };
        const { value, grads: g } = tf.valueAndGrads(f)(paramTensors);
        g.forEach((t, i) => {
          const d = t.dataSync();
          const out = grads[i];
          for (let k = 0; k < out.length; k++) out[k] = d[k];
        });
        return value.dataSync()[0];
      });
      window.loss = value;
      return window;
    },
    reset(h, c) {
      tf.dispose(hCur);
      if (cCur) tf.dispose(cCur);
      hCur = Array.from({ length: L }, (_, l) => tf.keep(h ? tf.tensor2d(Float32Array.from(h[l]), [B, H]) : tf.zeros([B, H])) as Tfjs.Tensor2D);
      cCur = lstm ? Array.from({ length: L }, (_, l) => tf.keep(c ? tf.tensor2d(Float32Array.from(c[l]), [B, H]) : tf.zeros([B, H])) as Tfjs.Tensor2D) : null;
      for (const slot of ring) freeSlot(slot);
      schedule.reset();
    },
    state() {
      return { h: hCur.map((t) => Float64Array.from(t.dataSync())), c: cCur ? cCur.map((t) => Float64Array.from(t.dataSync())) : null };
    },
    dispose() {
      tf.dispose(hCur);
      if (cCur) tf.dispose(cCur);
      for (const slot of ring) freeSlot(slot);
    },
  });
}

/** ModelTensors built from differentiable parameter tensors in `model.parameters()` order. */
function weightsFrom(model: RecurrentModel, ps: Tfjs.Tensor[], activation: HeadActivation): ModelTensors {
  const layers = model.layers.map((_, l) => ({
    wIhT: tf.transpose(ps[4 * l] as Tfjs.Tensor2D),
    wHhT: tf.transpose(ps[4 * l + 1] as Tfjs.Tensor2D),
    bIh: ps[4 * l + 2] as Tfjs.Tensor1D,
    bHh: ps[4 * l + 3] as Tfjs.Tensor1D,
  }));
  const L = model.layers.length;
  const head = model.head ? { wT: tf.transpose(ps[4 * L] as Tfjs.Tensor2D), b: ps[4 * L + 1] as Tfjs.Tensor1D, activation } : null;
  return { version: -1, layers, head };
}

/** Head pre-activation `z` (the top `h` itself without a head). */
function preactivation(weights: ModelTensors, h: Tfjs.Tensor2D): Tfjs.Tensor2D {
  return weights.head ? (tf.add(tf.matMul(h, weights.head.wT), weights.head.b) as Tfjs.Tensor2D) : h;
}

function activate(z: Tfjs.Tensor2D, activation: HeadActivation): Tfjs.Tensor2D {
  if (activation === 'sigmoid') return tf.sigmoid(z);
  if (activation === 'softmax') return tf.softmax(z);
  return z;
}

function headOutput(weights: ModelTensors, h: Tfjs.Tensor2D): Tfjs.Tensor2D {
  return weights.head ? activate(preactivation(weights, h), weights.head.activation) : tf.clone(h);
}

/** Sum of the loss terms (the caller divides by the mean's divisor), as in `losses.ts`. */
function lossSum(loss: LossKind, activation: HeadActivation, z: Tfjs.Tensor2D, t: Tfjs.Tensor2D): Tfjs.Scalar {
  if (loss === 'mse') return tf.sum(tf.square(tf.sub(activate(z, activation), t)));
  if (loss === 'cross_entropy') return tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(z)))) as Tfjs.Scalar;
  return tf.sum(tf.add(tf.sub(tf.relu(z), tf.mul(z, t)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as Tfjs.Scalar;
}
