import { createActivationTape, type ActivationTape } from './activationTape.js';
import { backwardWindow, createBpttScratch, type BpttScratch } from './bptt.js';
import type { RecurrentModel } from '../cells/model.js';
import { createPackedWeights, refreshPackedWeights, transposePackedWeights } from './packedWeights.js';
import { recordStep } from './recordStep.js';
import { jsTrainKernel, withTrainKernel, type Float64Allocator } from '../kernels/trainKernel.js';
import type { TbpttEngine, TbpttEngineOptions, TbpttWindow } from './tbpttEngine.js';
import { engineWithSchedule, TbpttSchedule } from './tbpttSchedule.js';

/**
 * The fast TBPTT engine: float loops with hand-derived gradients (see `backwardWindow`).
 *
 * Algorithm:
 * 1. Each online step records its activations into a ring of k2 slots (the state before the
 *    step, gates, the new state, the head output) with the weights of that moment.
 * 2. When a window is due, if every step in it ran with the current weights (always true for
 *    k1 = k2 unless someone else changed the model), the recorded pass *is* the re-run TBPTT
 *    asks for: backpropagate straight from the ring. Otherwise re-run the window from the saved
 *    state at its start into a second tape with the current weights, then backpropagate.
 * 3. The online state carries on untouched.
 * The matrix products run on the WebAssembly SIMD training kernel (`kernels/trainKernel.c`,
 * float64) where it loads, else on JavaScript loops; every buffer lives in that kernel's memory,
 * allocated once. Nothing is allocated per step or per window.
 *
 * @example
 * ```ts
 * const engine = createFusedTbpttEngine(model, { k1: 32, k2: 32, loss: 'mse' });
 * const y = new Float32Array(1);
 * engine.step(x, target, y);
 * if (engine.windowDue()) engine.backward(grads);
 * ```
 */
export function createFusedTbpttEngine(model: RecurrentModel, options: TbpttEngineOptions): TbpttEngine {
  const { k1, k2, loss } = options;
  const B = options.batch ?? 1;
  const { hiddenSize: H, inputSize: I, numLayers: L } = model.config;
  // Every buffer the matrix products touch lives in the kernel's memory (WebAssembly or plain).
  const compact = options.compact === true && options.kernel === 'js';
  const { kernel, value: bufs } =
    compact
      ? compactBuffers(model, k2, B)
      : withTrainKernel(
          (alloc) => ({
            tape: createActivationTape(model, k2, B, alloc),
            rerun: createActivationTape(model, k2, B, alloc),
            scratch: createBpttScratch(model, k2, B, alloc),
            weights: createPackedWeights(model, alloc),
          }),
          options.kernel ?? 'auto',
        );
  const { tape, scratch, weights } = bufs;
  const rerun: ActivationTape = bufs.rerun;
  const C0 = I + H;
  const O = tape.outputSize;
  const lstm = tape.cPrev !== null;
  // The online state: in the compact engine's slab, else arrays of its own.
  const own = bufs as { hCur?: Float64Array[]; cCur?: Float64Array[] };
  const hCur: Float64Array[] = own.hCur ?? Array.from({ length: L }, () => new Float64Array(B * H));
  const cCur: Float64Array[] | null = lstm ? (own.cCur ?? Array.from({ length: L }, () => new Float64Array(B * H))) : null;
  const schedule = new TbpttSchedule(k1, k2);

  return engineWithSchedule(schedule, {
    kind: 'fused',
    kernel: kernel.kind,
    batch: B,
    step(x, target, y) {
      const s = schedule.nextSlot;
      const BH = B * H;
      refreshPackedWeights(model, weights);
      for (let b = 0; b < B; b++) for (let k = 0; k < I; k++) tape.xh[0][(s * B + b) * C0 + k] = x[b * I + k];
      for (let l = 0; l < L; l++) {
        const C = weights.layers[l].I + H;
        for (let b = 0; b < B; b++) copy(tape.xh[l], (s * B + b) * C + C - H, hCur[l], b * H, H);
        if (cCur) copy((tape.cPrev as Float64Array[])[l], s * BH, cCur[l], 0, BH);
      }
      if (target) {
        for (let k = 0; k < B * O; k++) tape.target[s * B * O + k] = target[k];
        tape.hasTarget[s] = 1;
      } else tape.hasTarget[s] = 0;
      tape.version[s] = model.version;
      recordStep(model, weights, tape, s, kernel);
      // Copied with loops: subarray() would allocate a view per step.
      for (let l = 0; l < L; l++) {
        copy(hCur[l], 0, tape.hNew[l], s * BH, BH);
        if (cCur) copy(cCur[l], 0, (tape.cNew as Float64Array[])[l], s * BH, BH);
      }
      for (let k = 0; k < B * O; k++) y[k] = tape.y[s * B * O + k];
      schedule.advance();
    },
    labelLast(target) {
      const s = schedule.lastSlot;
      if (s < 0) return;
      for (let k = 0; k < B * O; k++) tape.target[s * B * O + k] = target[k];
      tape.hasTarget[s] = 1;
    },
    backward(grads): TbpttWindow {
      const { start, length: n, lossStart, lossLength, first } = schedule.window();
      let fresh = true;
      for (let j = 0; j < n; j++) if (tape.version[(first + j) % k2] !== model.version) fresh = false;
      let result;
      if (fresh) {
        // Compact engines share the transposes: this engine's go in first.
        if (compact) transposePackedWeights(model, weights);
        result = backwardWindow(model, weights, tape, first, n, lossLength, loss, grads, scratch, kernel);
      } else {
        const rt = rerun;
        const BH = B * H;
        refreshPackedWeights(model, weights);
        for (let j = 0; j < n; j++) {
          const s = (first + j) % k2;
          copy(rt.target, j * B * O, tape.target, s * B * O, B * O);
          rt.hasTarget[j] = tape.hasTarget[s];
          for (let b = 0; b < B; b++) copy(rt.xh[0], (j * B + b) * C0, tape.xh[0], (s * B + b) * C0, I);
          for (let l = 0; l < L; l++) {
            const C = weights.layers[l].I + H;
            for (let b = 0; b < B; b++) {
              // entering state: the saved online state at the window start, then the re-run's own
              if (j === 0) copy(rt.xh[l], b * C + C - H, tape.xh[l], (s * B + b) * C + C - H, H);
              else copy(rt.xh[l], (j * B + b) * C + C - H, rt.hNew[l], ((j - 1) * B + b) * H, H);
            }
            if (lstm) {
              const rc = rt.cPrev as Float64Array[];
              if (j === 0) copy(rc[l], j * BH, (tape.cPrev as Float64Array[])[l], s * BH, BH);
              else copy(rc[l], j * BH, (rt.cNew as Float64Array[])[l], (j - 1) * BH, BH);
            }
          }
          rt.version[j] = model.version;
          recordStep(model, weights, rt, j, kernel);
        }
        if (compact) transposePackedWeights(model, weights);
        result = backwardWindow(model, weights, rt, 0, n, lossLength, loss, grads, scratch, kernel);
      }
      return { start, length: n, lossStart, lossLength, loss: result.loss, rows: result.rows };
    },
    reset(h, c) {
      for (let l = 0; l < L; l++) {
        if (h) hCur[l].set(h[l]);
        else hCur[l].fill(0);
        if (cCur) {
          if (c) cCur[l].set(c[l]);
          else cCur[l].fill(0);
        }
      }
      schedule.reset();
    },
    state() {
      return { h: hCur.map((a) => a.slice()), c: cCur ? cCur.map((a) => a.slice()) : null };
    },
    dispose() {},
  });
}

/** Work buffers shared by the compact engines of one shape (one thread: a window's backward runs to its end before another starts). */
const SHARED = new Map<string, { rerun: ActivationTape; scratch: BpttScratch; transposes: { wcatT: Float64Array[]; headWT: Float64Array } }>();

/**
 * The `compact` engine's buffers: the re-run tape and the backward scratch shared per shape
 * (both are written in full before they are read), the engine's own tape and packed weights as
 * views into one Float64Array (one backing store instead of one per buffer).
 */
function compactBuffers(model: RecurrentModel, k2: number, B: number) {
  const kernel = jsTrainKernel();
  const { cell, inputSize, hiddenSize, numLayers } = model.config;
  const shape = [cell, inputSize, hiddenSize, numLayers, model.head ? model.head.outputSize : -1, k2, B].join('/');
  let shared = SHARED.get(shape);
  if (!shared) {
    const packed = createPackedWeights(model);
    shared = { rerun: createActivationTape(model, k2, B), scratch: createBpttScratch(model, k2, B), transposes: { wcatT: packed.layers.map((p) => p.wcatT), headWT: packed.headWT } };
    SHARED.set(shape, shared);
  }
  const L = numLayers;
  const transposes = shared.transposes;
  const own = (alloc: Float64Allocator) => ({
    tape: createActivationTape(model, k2, B, alloc),
    weights: createPackedWeights(model, alloc, transposes),
    hCur: Array.from({ length: L }, () => alloc(B * hiddenSize)),
    cCur: Array.from({ length: cell === 'lstm' ? L : 0 }, () => alloc(B * hiddenSize)),
  });
  let total = 0;
  own((n) => {
    total += n;
    return new Float64Array(n);
  });
  const slab = new Float64Array(total);
  let next = 0;
  const value = own((n) => slab.subarray(next, (next += n)));
  return { kernel, value: { ...value, rerun: shared.rerun, scratch: shared.scratch } };
}

function copy(dst: Float64Array, dOff: number, src: Float64Array, sOff: number, n: number): void {
  for (let k = 0; k < n; k++) dst[dOff + k] = src[sOff + k];
}
