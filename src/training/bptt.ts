import type { ActivationTape } from './activationTape.js';
import { lossDivisor, lossRow, type LossKind } from './losses.js';
import type { RecurrentModel } from '../cells/model.js';
import type { PackedWeights } from './packedWeights.js';
import { jsTrainKernel, type Float64Allocator, type TrainKernel } from '../kernels/trainKernel.js';

/**
 * Work buffers of {@link backwardWindow} for windows of up to `maxSteps` steps: per-step
 * gradients and the per-window gradient columns. Allocate once per learner with
 * {@link createBpttScratch}.
 */
export interface BpttScratch {
  readonly maxSteps: number;
  readonly batch: number;
  readonly dhRec: Float64Array[];
  readonly dcRec: Float64Array[];
  readonly dh: Float64Array;
  readonly dhNext: Float64Array;
  readonly dx: Float64Array;
  readonly dgi: Float64Array;
  readonly dgh: Float64Array;
  readonly dz: Float64Array;
  readonly dgiT: Float64Array[];
  readonly dghT: Float64Array[];
  /** Per layer, `[input | h_prev]` of every column, transposed: `(I_l + H) x columns`. */
  readonly catT: Float64Array[];
  readonly dzT: Float64Array;
  readonly topT: Float64Array;
  /** Per layer, the weight gradient `[dW_ih | dW_hh]` rows (`G*H x (I_l + H)`) before they are copied out. */
  readonly dWcat: Float64Array[];
  /** Head weight gradient before it is copied out. */
  readonly dWhead: Float64Array;
}

/**
 * Allocates {@link BpttScratch} for `model`, windows of up to `maxSteps` steps and `batch` rows,
 * with `alloc` (a training kernel's allocator, default plain arrays).
 *
 * @example
 * ```ts
 * const scratch = createBpttScratch(model, 32);
 * ```
 */
export function createBpttScratch(model: RecurrentModel, maxSteps: number, batch = 1, alloc: Float64Allocator = (n) => new Float64Array(n)): BpttScratch {
  const { hiddenSize: H, numLayers: L } = model.config;
  const G = model.cellDefinition.gates;
  const GH = G * H;
  const O = model.head ? model.head.outputSize : H;
  const N = maxSteps * batch;
  const gru = model.config.cell === 'gru';
  return {
    maxSteps,
    batch,
    dhRec: Array.from({ length: L }, () => alloc(batch * H)),
    dcRec: Array.from({ length: L }, () => alloc(batch * H)),
    dh: alloc(batch * H),
    dhNext: alloc(batch * H),
    dx: alloc(batch * H),
    dgi: alloc(batch * GH),
    dgh: alloc(batch * GH),
    dz: alloc(batch * O),
    dgiT: model.layers.map(() => alloc(GH * N)),
    dghT: model.layers.map(() => alloc(gru ? GH * N : 0)),
    catT: model.layers.map((l) => alloc((l.inputSize + H) * N)),
    dzT: alloc(O * N),
    topT: alloc(H * N),
    dWcat: model.layers.map((l) => alloc(GH * (l.inputSize + H))),
    dWhead: alloc(model.head ? O * H : 0),
  };
}

/** Loss of one window, see {@link backwardWindow}. */
export interface WindowLoss {
  /** Mean loss over the targets in the loss range (NaN when there were none). */
  loss: number;
  /** Rows (steps x batch) that had a target in the loss range; 0 means no gradient. */
  rows: number;
}

/**
 * Backpropagation through time over `length` recorded steps of `tape` (slots `first`,
 * `first+1`, ... modulo the tape's capacity), hand-derived for every cell kind, every layer and
 * the head. The loss is the mean (see `losses.ts`) over the targets of the last `lossLength`
 * steps; gradients flow back through the whole window and stop at its entering state (which is
 * treated as a constant: truncation). Writes `dLoss/dParam` into `grads` (overwriting; same
 * order as `model.parameters()`), accumulating in float64. Every buffer (tape, weights, scratch)
 * must come from `kernel.alloc`; the matrix products run on `kernel.matvec`. Allocates nothing.
 *
 * `rowWeights` (optional, indexed like the tape's rows: `slot*batch + b`) weights each row's loss:
 * 0 masks a row out (padding of a shorter sequence, a frame without a label), and the mean
 * becomes `Σ w·loss / Σ w` (PyTorch's weighted `CrossEntropyLoss` mean; per element for mse and
 * binary cross-entropy). Without it every row of a step with a target weighs 1.
 *
 * Derivatives used (σ' = s(1-s), tanh' = 1-t², `dh` incoming from the head, the layer above and
 * the next step):
 * - LSTM: `dc += dh·o·(1-tanh²c')`, `d o = dh·tanh c'`, `d i = dc·g`, `d f = dc·c`, `d g = dc·i`, `dc_prev = dc·f`.
 * - GRU (`n = tanh(gi_n + r·gh_n)`): `dn = dh(1-z)`, `dz = dh(h-n)`, `dgi_n = dn(1-n²)`,
 *   `dgh_n = dgi_n·r`, `dr = dgi_n·gh_n`, `dh_prev = dh·z + W_hhᵀ dgh`.
 * - RNN: `da = dh(1-h'²)` (tanh) or `dh·[h'>0]` (relu).
 * For all: `dh_prev += W_hhᵀ dgh`, `dx = W_ihᵀ dgi`, `dW_ih = Σ dgi xᵀ`, `dW_hh = Σ dgh h_prevᵀ`.
 *
 * @example
 * ```ts
 * const grads = model.parameters().map((p) => new Float64Array(p.data.length));
 * const { loss } = backwardWindow(model, packed, tape, 0, 4, 4, 'mse', grads, createBpttScratch(model, 4));
 * ```
 */
export function backwardWindow(
  model: RecurrentModel,
  weights: PackedWeights,
  tape: ActivationTape,
  first: number,
  length: number,
  lossLength: number,
  loss: LossKind,
  grads: readonly Float64Array[],
  scratch: BpttScratch,
  kernel: TrainKernel = JS,
  rowWeights: Float64Array | null = null,
): WindowLoss {
  const mv = kernel.matvec;
  const { batch: B, hiddenSize: H, gates: G, outputSize: O, capacity } = tape;
  const L = model.layers.length;
  const GH = G * H;
  const N = length * B;
  const NS = scratch.maxSteps * B;
  const kind = model.config.cell;
  const head = model.head;
  const activation = head ? head.activation : 'identity';

  // Count target rows in the loss range first: the mean's divisor scales every gradient.
  let rows = 0;
  let weightSum = 0;
  for (let j = length - lossLength; j < length; j++) {
    const s = (first + j) % capacity;
    if (!tape.hasTarget[s]) continue;
    if (!rowWeights) rows += B;
    else
      for (let b = 0; b < B; b++) {
        const w = rowWeights[s * B + b];
        if (w > 0) {
          rows++;
          weightSum += w;
        }
      }
  }
  const divisor = lossDivisor(loss, rowWeights ? weightSum : rows, O);
  const scale = rows > 0 ? 1 / divisor : 0;
  let lossSum = 0;

  for (let l = 0; l < L; l++) {
    scratch.dhRec[l].fill(0);
    scratch.dcRec[l].fill(0);
  }
  const { dh, dhNext, dx, dgi, dgh, dz, dzT, topT } = scratch;
  const headWT = weights.headWT;
  const top = tape.hNew[L - 1];

  for (let j = length - 1; j >= 0; j--) {
    const s = (first + j) % capacity;
    const withLoss = j >= length - lossLength && tape.hasTarget[s] === 1;
    // 1. Head: dz from the loss, then dh_top = W_headᵀ dz + the recurrent dh.
    dh.set(scratch.dhRec[L - 1]);
    for (let b = 0; b < B; b++) {
      const row = s * B + b;
      const col = j * B + b;
      for (let k = 0; k < H; k++) topT[k * NS + col] = top[row * H + k];
      const w = rowWeights ? rowWeights[row] : 1;
      if (!withLoss || !(w > 0)) {
        for (let o = 0; o < O; o++) dzT[o * NS + col] = 0;
        continue;
      }
      dz.fill(0, b * O, (b + 1) * O);
      lossSum += w * lossRow(loss, activation, tape.z, tape.y, tape.target, row * O, O, scale * w, dz, b * O);
      for (let o = 0; o < O; o++) dzT[o * NS + col] = dz[b * O + o];
      if (head) {
        mv(headWT, 0, O, dz, b * O, dh, b * H, H, O, true);
      } else {
        for (let k = 0; k < H; k++) dh[b * H + k] += dz[b * O + k];
      }
    }
    // 2. Layers, top to bottom; `dh` holds the gradient reaching layer l's output at this step.
    for (let l = L - 1; l >= 0; l--) {
      const I = model.layers[l].inputSize;
      const C = I + H;
      const xh = tape.xh[l];
      const hn = tape.hNew[l];
      const act = tape.act[l];
      const dc = scratch.dcRec[l];
      const dgiT = scratch.dgiT[l];
      const dghT = kind === 'gru' ? scratch.dghT[l] : dgiT;
      const catT = scratch.catT[l];
      const wcatT = weights.layers[l].wcatT;
      for (let b = 0; b < B; b++) {
        const row = s * B + b;
        const ho = row * H;
        const ao = row * GH;
        const xo = row * C;
        const bo = b * H;
        const go = b * GH;
        if (kind === 'lstm') {
          const cp = (tape.cPrev as Float64Array[])[l];
          const tc = (tape.tanhC as Float64Array[])[l];
          for (let q = 0; q < H; q++) {
            const i = act[ao + q];
            const f = act[ao + H + q];
            const g = act[ao + 2 * H + q];
            const o = act[ao + 3 * H + q];
            const t = tc[ho + q];
            const d = dh[bo + q];
            const dct = dc[bo + q] + d * o * (1 - t * t);
            dgi[go + q] = dct * g * i * (1 - i);
            dgi[go + H + q] = dct * cp[ho + q] * f * (1 - f);
            dgi[go + 2 * H + q] = dct * i * (1 - g * g);
            dgi[go + 3 * H + q] = d * t * o * (1 - o);
            dc[bo + q] = dct * f;
            dhNext[bo + q] = 0;
          }
        } else if (kind === 'gru') {
          const ghn = (tape.ghn as Float64Array[])[l];
          for (let q = 0; q < H; q++) {
            const r = act[ao + q];
            const z = act[ao + H + q];
            const n = act[ao + 2 * H + q];
            const d = dh[bo + q];
            const dnp = d * (1 - z) * (1 - n * n);
            const drp = dnp * ghn[ho + q] * r * (1 - r);
            const dzp = d * (xh[xo + I + q] - n) * z * (1 - z);
            dgi[go + q] = dgh[go + q] = drp;
            dgi[go + H + q] = dgh[go + H + q] = dzp;
            dgi[go + 2 * H + q] = dnp;
            dgh[go + 2 * H + q] = dnp * r;
            dhNext[bo + q] = d * z;
          }
        } else {
          const relu = kind === 'rnn_relu';
          for (let q = 0; q < H; q++) {
            const h = hn[ho + q];
            dgi[go + q] = relu ? (h > 0 ? dh[bo + q] : 0) : dh[bo + q] * (1 - h * h);
            dhNext[bo + q] = 0;
          }
        }
        const dghRow = kind === 'gru' ? dgh : dgi;
        // dh_prev += W_hhᵀ dgh, dx = W_ihᵀ dgi: contiguous dot products over the transposed rows.
        mv(wcatT, I * GH, GH, dghRow, go, dhNext, bo, H, GH, true);
        if (l > 0) mv(wcatT, 0, GH, dgi, go, dx, bo, I, GH, false);
        // Columns for the weight gradients, summed after the loop.
        const col = j * B + b;
        for (let r = 0; r < GH; r++) dgiT[r * NS + col] = dgi[go + r];
        if (kind === 'gru') for (let r = 0; r < GH; r++) dghT[r * NS + col] = dgh[go + r];
        for (let k = 0; k < C; k++) catT[k * NS + col] = xh[xo + k];
      }
      scratch.dhRec[l].set(dhNext);
      if (l > 0) {
        // The layer below receives its own recurrent gradient plus what flows down from here.
        const below = scratch.dhRec[l - 1];
        for (let q = 0; q < B * H; q++) dh[q] = below[q] + dx[q];
      }
    }
  }

  // 3. Weight gradients as dot products over the window's columns.
  for (let l = 0; l < L; l++) {
    const I = model.layers[l].inputSize;
    const gIh = grads[4 * l];
    const gHh = grads[4 * l + 1];
    const gBi = grads[4 * l + 2];
    const gBh = grads[4 * l + 3];
    const dgiT = scratch.dgiT[l];
    const dghT = kind === 'gru' ? scratch.dghT[l] : dgiT;
    const catT = scratch.catT[l];
    const dW = scratch.dWcat[l];
    const C = I + H;
    for (let r = 0; r < GH; r++) {
      const ro = r * NS;
      if (kind === 'gru') {
        mv(catT, 0, NS, dgiT, ro, dW, r * C, I, N, false);
        mv(catT, I * NS, NS, dghT, ro, dW, r * C + I, H, N, false);
      } else mv(catT, 0, NS, dgiT, ro, dW, r * C, C, N, false);
      for (let k = 0; k < I; k++) gIh[r * I + k] = dW[r * C + k];
      for (let k = 0; k < H; k++) gHh[r * H + k] = dW[r * C + I + k];
      gBi[r] = sum(dgiT, ro, N);
      gBh[r] = kind === 'gru' ? sum(dghT, ro, N) : gBi[r];
    }
  }
  if (head) {
    const gW = grads[4 * L];
    const gB = grads[4 * L + 1];
    for (let o = 0; o < O; o++) {
      mv(topT, 0, NS, dzT, o * NS, scratch.dWhead, o * H, H, N, false);
      for (let k = 0; k < H; k++) gW[o * H + k] = scratch.dWhead[o * H + k];
      gB[o] = sum(dzT, o * NS, N);
    }
  }
  return { loss: rows > 0 ? lossSum / divisor : NaN, rows };
}

function sum(a: Float64Array, ao: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[ao + k];
  return s;
}

const JS = jsTrainKernel();
