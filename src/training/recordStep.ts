import type { ActivationTape } from './activationTape.js';
import type { RecurrentModel } from '../cells/model.js';
import type { PackedWeights } from './packedWeights.js';
import { jsTrainKernel, type TrainKernel } from '../kernels/trainKernel.js';

/**
 * Runs one step of every layer and the head for all rows of tape slot `s`, recording every
 * activation backpropagation needs. Before calling, the caller fills slot `s`'s layer-0 input
 * and every layer's entering state (the `xh` rows, see `ActivationTape`); this computes
 * `hNew`/`cNew`, the gates and the head's `z`/`y` in float64 with PyTorch's equations (see the
 * cell files), using `weights` (refreshed by the caller for the model's current version) and the
 * kernel's matrix-vector product (all buffers must come from `kernel.alloc`). Allocates nothing.
 *
 * @example
 * ```ts
 * const tape = createActivationTape(model, 4);
 * tape.xh[0].set([0.1, 0.2, 0.3], 0); // slot 0 input, zero entering state
 * recordStep(model, createPackedWeights(model), tape, 0);
 * tape.y[0]; // head output of slot 0
 * ```
 */
export function recordStep(model: RecurrentModel, weights: PackedWeights, tape: ActivationTape, s: number, kernel: TrainKernel = JS): void {
  const mv = kernel.matvec;
  const pre = tape.pre;
  const { batch: B, hiddenSize: H, gates: G } = tape;
  const kind = model.config.cell;
  const GH = G * H;
  const L = weights.layers.length;
  for (let l = 0; l < L; l++) {
    const { I, wcat, bIh, bHh } = weights.layers[l];
    const C = I + H;
    const xh = tape.xh[l];
    const hn = tape.hNew[l];
    const act = tape.act[l];
    for (let b = 0; b < B; b++) {
      const row = s * B + b;
      const xo = row * C;
      const ho = row * H;
      const ao = row * GH;
      if (l > 0) {
        // this layer's input is the layer below's new h
        const below = tape.hNew[l - 1];
        for (let k = 0; k < H; k++) xh[xo + k] = below[ho + k];
      }
      if (kind === 'lstm') {
        const cp = (tape.cPrev as Float64Array[])[l];
        const cn = (tape.cNew as Float64Array[])[l];
        const tc = (tape.tanhC as Float64Array[])[l];
        mv(wcat, 0, C, xh, xo, pre, 0, GH, C, false);
        // gate blocks i, f, g, o: only g uses tanh
        for (let r = 0; r < 2 * H; r++) act[ao + r] = sig(pre[r] + bIh[r] + bHh[r]);
        for (let r = 2 * H; r < 3 * H; r++) act[ao + r] = Math.tanh(pre[r] + bIh[r] + bHh[r]);
        for (let r = 3 * H; r < GH; r++) act[ao + r] = sig(pre[r] + bIh[r] + bHh[r]);
        for (let j = 0; j < H; j++) {
          const c = act[ao + H + j] * cp[ho + j] + act[ao + j] * act[ao + 2 * H + j];
          const t = Math.tanh(c);
          cn[ho + j] = c;
          tc[ho + j] = t;
          hn[ho + j] = act[ao + 3 * H + j] * t;
        }
      } else if (kind === 'gru') {
        const ghn = (tape.ghn as Float64Array[])[l];
        mv(wcat, 0, C, xh, xo, pre, 0, 2 * H, C, false); // r, z from [x | h]
        mv(wcat, 2 * H * C, C, xh, xo, pre, 2 * H, H, I, false); // W_in x
        mv(wcat, 2 * H * C + I, C, xh, xo + I, pre, 3 * H, H, H, false); // W_hn h
        for (let r = 0; r < 2 * H; r++) act[ao + r] = sig(pre[r] + bIh[r] + bHh[r]);
        for (let j = 0; j < H; j++) {
          const r = 2 * H + j;
          const gi = bIh[r] + pre[r];
          const gh = bHh[r] + pre[H + r];
          ghn[ho + j] = gh;
          const n = Math.tanh(gi + act[ao + j] * gh);
          act[ao + r] = n;
          const z = act[ao + H + j];
          hn[ho + j] = (1 - z) * n + z * xh[xo + I + j];
        }
      } else {
        const relu = kind === 'rnn_relu';
        mv(wcat, 0, C, xh, xo, pre, 0, H, C, false);
        for (let j = 0; j < H; j++) {
          const v = bIh[j] + bHh[j] + pre[j];
          hn[ho + j] = relu ? (v > 0 ? v : 0) : Math.tanh(v);
        }
      }
    }
  }
  recordHead(model, weights, tape, s, mv);
}

const JS = jsTrainKernel();

function sig(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

function recordHead(model: RecurrentModel, weights: PackedWeights, tape: ActivationTape, s: number, mv: TrainKernel['matvec']): void {
  const { batch: B, hiddenSize: H, outputSize: O } = tape;
  const top = tape.hNew[weights.layers.length - 1];
  const head = model.head;
  for (let b = 0; b < B; b++) {
    const row = s * B + b;
    const ho = row * H;
    const yo = row * O;
    if (!head) {
      for (let j = 0; j < H; j++) tape.z[yo + j] = tape.y[yo + j] = top[ho + j];
      continue;
    }
    mv(weights.headW, 0, H, top, ho, tape.z, yo, O, H, false);
    let max = -Infinity;
    for (let o = 0; o < O; o++) {
      const acc = (tape.z[yo + o] += weights.headB[o]);
      if (acc > max) max = acc;
    }
    const activation = head.activation;
    if (activation === 'identity') {
      for (let o = 0; o < O; o++) tape.y[yo + o] = tape.z[yo + o];
    } else if (activation === 'sigmoid') {
      for (let o = 0; o < O; o++) tape.y[yo + o] = sig(tape.z[yo + o]);
    } else {
      let sum = 0;
      for (let o = 0; o < O; o++) sum += tape.y[yo + o] = Math.exp(tape.z[yo + o] - max);
      for (let o = 0; o < O; o++) tape.y[yo + o] /= sum;
    }
  }
}
