import { createActivationTape, type ActivationTape } from './activationTape.js';
import { backwardWindow, createBpttScratch, type BpttScratch, type WindowLoss } from './bptt.js';
import type { EncodedSequence } from './labelledSequence.js';
import type { LossKind } from './losses.js';
import type { RecurrentModel } from '../cells/model.js';
import { createPackedWeights, refreshPackedWeights, type PackedWeights } from './packedWeights.js';
import { recordStep } from './recordStep.js';
import { withTrainKernel, type TrainKernel } from '../kernels/trainKernel.js';

/** What a {@link SequenceBatchRunner} hands to its chunk callback after each backward pass. */
export interface ChunkGradients extends WindowLoss {
  /** First step of the chunk within the batch's sequences. */
  start: number;
  /** Steps in the chunk. */
  length: number;
}

/** Options of {@link createSequenceBatchRunner}. */
export interface SequenceBatchRunnerOptions {
  /** Most sequences per batch. */
  batchSize: number;
  /** Longest chunk (the longest sequence for full BPTT, the truncation length otherwise). */
  chunkCapacity: number;
  loss: LossKind;
  /** `'auto'` (WebAssembly SIMD float64 kernel where it loads) or `'js'`. Default `'auto'`. */
  kernel?: 'auto' | 'js';
}

/**
 * Runs a padded mini-batch of variable-length sequences through a model in chunks, recording
 * activations on one float64 tape, and backpropagates each chunk (`backwardWindow`, hand-derived
 * gradients) with a per-row loss mask: steps past a sequence's end and steps without a target
 * weigh 0, so the loss is exactly the masked mean PyTorch computes on a padded batch.
 *
 * Algorithm, per batch (B rows, T = longest sequence, chunk length k = T for full BPTT):
 * 1. Rows start from the zero state; rows beyond the batch's sequences are zero and masked.
 * 2. For each chunk of k steps: fill each step's inputs, targets and loss weights, run the
 *    forward (`recordStep`) with the model's current weights, backpropagate through the chunk
 *    only (the entering state is a constant: truncation), then call `onChunk` (which may update
 *    the weights: the next chunk sees them).
 * 3. The state at the chunk's end enters the next chunk.
 * All buffers are allocated once, in the training kernel's memory.
 *
 * @example
 * ```ts
 * const runner = createSequenceBatchRunner(model, { batchSize: 8, chunkCapacity: 100, loss: 'cross_entropy' });
 * runner.run(batch, 100, grads, (chunk) => console.log(chunk.loss));
 * ```
 */
export interface SequenceBatchRunner {
  readonly kernel: TrainKernel['kind'];
  /**
   * Forward (and, with `grads`, backward) over `batch` in chunks of `chunk` steps. `onChunk` is
   * called after each chunk's gradients are in `grads`; `onStep` (forward-only use) sees each
   * scored row's output `y` at `yOff` and its encoded target.
   */
  run(
    batch: readonly EncodedSequence[],
    chunk: number,
    grads: readonly Float64Array[] | null,
    onChunk?: (result: ChunkGradients) => void,
    onStep?: (sequence: EncodedSequence, step: number, y: Float64Array, yOff: number) => void,
  ): void;
}

/**
 * Creates a {@link SequenceBatchRunner}; see its documentation.
 *
 * @example
 * ```ts
 * const runner = createSequenceBatchRunner(model, { batchSize: 8, chunkCapacity: 100, loss: 'mse' });
 * ```
 */
export function createSequenceBatchRunner(model: RecurrentModel, options: SequenceBatchRunnerOptions): SequenceBatchRunner {
  const B = options.batchSize;
  const K = options.chunkCapacity;
  const { kernel, value } = withTrainKernel(
    (alloc) => ({
      tape: createActivationTape(model, K, B, alloc),
      scratch: createBpttScratch(model, K, B, alloc),
      weights: createPackedWeights(model, alloc),
    }),
    options.kernel ?? 'auto',
  );
  const tape: ActivationTape = value.tape;
  const scratch: BpttScratch = value.scratch;
  const weights: PackedWeights = value.weights;
  const { inputSize: I, hiddenSize: H, numLayers: L } = model.config;
  const O = tape.outputSize;
  const rowWeights = new Float64Array(K * B);
  const hCarry = Array.from({ length: L }, () => new Float64Array(B * H));
  const cCarry = tape.cPrev ? Array.from({ length: L }, () => new Float64Array(B * H)) : null;

  return {
    kernel: kernel.kind,
    run(batch, chunk, grads, onChunk, onStep) {
      const rows = batch.length;
      let T = 0;
      for (const s of batch) if (s.length > T) T = s.length;
      const k = Math.min(chunk, K);
      for (let l = 0; l < L; l++) {
        hCarry[l].fill(0);
        cCarry?.[l].fill(0);
      }
      for (let start = 0; start < T; start += k) {
        const n = Math.min(k, T - start);
        refreshPackedWeights(model, weights);
        for (let j = 0; j < n; j++) {
          const t = start + j;
          let any = 0;
          for (let b = 0; b < B; b++) {
            const seq = b < rows ? batch[b] : null;
            const live = seq !== null && t < seq.length;
            const row = j * B + b;
            const xo = row * (I + H);
            for (let q = 0; q < I; q++) tape.xh[0][xo + q] = live ? seq.x[t * I + q] : 0;
            const w = live ? seq.weights[t] : 0;
            rowWeights[row] = w;
            if (w > 0) any = 1;
            for (let o = 0; o < O; o++) tape.target[row * O + o] = live ? seq.targets[t * O + o] : 0;
          }
          tape.hasTarget[j] = any;
          for (let l = 0; l < L; l++) {
            const C = weights.layers[l].I + H;
            const xh = tape.xh[l];
            for (let b = 0; b < B; b++) {
              const dst = (j * B + b) * C + C - H;
              if (j === 0) for (let q = 0; q < H; q++) xh[dst + q] = hCarry[l][b * H + q];
              else for (let q = 0; q < H; q++) xh[dst + q] = tape.hNew[l][((j - 1) * B + b) * H + q];
            }
            if (cCarry) {
              const cp = (tape.cPrev as Float64Array[])[l];
              const src = j === 0 ? cCarry[l] : (tape.cNew as Float64Array[])[l];
              const so = j === 0 ? 0 : (j - 1) * B * H;
              for (let q = 0; q < B * H; q++) cp[j * B * H + q] = src[so + q];
            }
          }
          tape.version[j] = model.version;
          recordStep(model, weights, tape, j, kernel);
          if (onStep)
            for (let b = 0; b < rows; b++) if (rowWeights[j * B + b] > 0) onStep(batch[b], t, tape.y, (j * B + b) * O);
        }
        if (grads) {
          const result = backwardWindow(model, weights, tape, 0, n, n, options.loss, grads, scratch, kernel, rowWeights);
          onChunk?.({ ...result, start, length: n });
        }
        for (let l = 0; l < L; l++) {
          const last = (n - 1) * B * H;
          for (let q = 0; q < B * H; q++) hCarry[l][q] = tape.hNew[l][last + q];
          if (cCarry) for (let q = 0; q < B * H; q++) cCarry[l][q] = (tape.cNew as Float64Array[])[l][last + q];
        }
      }
    },
  };
}
