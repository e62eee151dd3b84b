import type { ActivationTape } from './activationTape.js';
import type { RecurrentModel } from './model.js';

/**
 * Runs one step of every layer and the head for all rows of tape slot `s`, recording every
 * activation backpropagation needs. Before calling, the caller fills slot `s`'s layer-0 input
 * (`tape.x`) and the entering state (`tape.hPrev[l]`, `tape.cPrev[l]`); this computes
 * `hNew`/`cNew`, the gates and the head's `z`/`y`, in float64 from the float32 weights
 * (PyTorch's equations, see the cell files). Allocates nothing.
 *
 * @example
 * ```ts
 * const tape = createActivationTape(model, 4);
 * tape.x.set([0.1, 0.2, 0.3], 0); // slot 0, zero entering state
 * recordStep(model, tape, 0);
 * tape.y[0]; // head output of slot 0
 * ```
 */
export function recordStep(model: RecurrentModel, tape: ActivationTape, s: number): void {
  const { batch: B, hiddenSize: H, gates: G } = tape;
  const kind = model.config.cell;
  const GH = G * H;
  for (let l = 0; l < model.layers.length; l++) {
    const layer = model.layers[l];
    const I = layer.inputSize;
    const { weightIh, weightHh, biasIh, biasHh } = layer;
    const xs = l === 0 ? tape.x : tape.hNew[l - 1];
    const hp = tape.hPrev[l];
    const hn = tape.hNew[l];
    const act = tape.act[l];
    for (let b = 0; b < B; b++) {
      const row = s * B + b;
      const xo = row * I;
      const ho = row * H;
      const ao = row * GH;
      if (kind === 'lstm') {
        const cp = (tape.cPrev as Float64Array[])[l];
        const cn = (tape.cNew as Float64Array[])[l];
        const tc = (tape.tanhC as Float64Array[])[l];
        for (let r = 0; r < GH; r++) {
          const v = preact(weightIh, weightHh, biasIh[r] + biasHh[r], r, xs, xo, I, hp, ho, H);
          // gate blocks i, f, g, o: only g uses tanh
          act[ao + r] = r >= 2 * H && r < 3 * H ? Math.tanh(v) : sig(v);
        }
        for (let j = 0; j < H; j++) {
          const c = act[ao + H + j] * cp[ho + j] + act[ao + j] * act[ao + 2 * H + j];
          const t = Math.tanh(c);
          cn[ho + j] = c;
          tc[ho + j] = t;
          hn[ho + j] = act[ao + 3 * H + j] * t;
        }
      } else if (kind === 'gru') {
        const ghn = (tape.ghn as Float64Array[])[l];
        for (let r = 0; r < 2 * H; r++) act[ao + r] = sig(preact(weightIh, weightHh, biasIh[r] + biasHh[r], r, xs, xo, I, hp, ho, H));
        for (let j = 0; j < H; j++) {
          const r = 2 * H + j;
          const gi = preact(weightIh, null, biasIh[r], r, xs, xo, I, hp, ho, H);
          const gh = preact(null, weightHh, biasHh[r], r, xs, xo, I, hp, ho, H);
          ghn[ho + j] = gh;
          const n = Math.tanh(gi + act[ao + j] * gh);
          act[ao + r] = n;
          const z = act[ao + H + j];
          hn[ho + j] = (1 - z) * n + z * hp[ho + j];
        }
      } else {
        const relu = kind === 'rnn_relu';
        for (let j = 0; j < H; j++) {
          const v = preact(weightIh, weightHh, biasIh[j] + biasHh[j], j, xs, xo, I, hp, ho, H);
          hn[ho + j] = relu ? (v > 0 ? v : 0) : Math.tanh(v);
        }
      }
    }
  }
  recordHead(model, tape, s);
}

function sig(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** `bias + W_ih[r]·x + W_hh[r]·h` (either matrix may be skipped), float64 accumulation, unrolled by 4. */
function preact(
  wIh: Float32Array | null,
  wHh: Float32Array | null,
  bias: number,
  r: number,
  x: Float64Array,
  xo: number,
  I: number,
  h: Float64Array,
  ho: number,
  H: number,
): number {
  let s0 = bias;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  if (wIh) {
    const o = r * I;
    let k = 0;
    for (; k + 3 < I; k += 4) {
      s0 += wIh[o + k] * x[xo + k];
      s1 += wIh[o + k + 1] * x[xo + k + 1];
      s2 += wIh[o + k + 2] * x[xo + k + 2];
      s3 += wIh[o + k + 3] * x[xo + k + 3];
    }
    for (; k < I; k++) s0 += wIh[o + k] * x[xo + k];
  }
  if (wHh) {
    const o = r * H;
    let k = 0;
    for (; k + 3 < H; k += 4) {
      s0 += wHh[o + k] * h[ho + k];
      s1 += wHh[o + k + 1] * h[ho + k + 1];
      s2 += wHh[o + k + 2] * h[ho + k + 2];
      s3 += wHh[o + k + 3] * h[ho + k + 3];
    }
    for (; k < H; k++) s0 += wHh[o + k] * h[ho + k];
  }
  return s0 + s1 + s2 + s3;
}

function recordHead(model: RecurrentModel, tape: ActivationTape, s: number): void {
  const { batch: B, hiddenSize: H, outputSize: O } = tape;
  const top = tape.hNew[model.layers.length - 1];
  const head = model.head;
  for (let b = 0; b < B; b++) {
    const row = s * B + b;
    const ho = row * H;
    const yo = row * O;
    if (!head) {
      for (let j = 0; j < H; j++) tape.z[yo + j] = tape.y[yo + j] = top[ho + j];
      continue;
    }
    const { weight, bias, activation } = head;
    let max = -Infinity;
    for (let o = 0; o < O; o++) {
      let acc = bias[o];
      const wo = o * H;
      for (let j = 0; j < H; j++) acc += weight[wo + j] * top[ho + j];
      tape.z[yo + o] = acc;
      if (acc > max) max = acc;
    }
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
