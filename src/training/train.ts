import { InvalidOptionError } from '../errors.js';
import type { RecurrentModel } from '../cells/model.js';
import { seededRandom } from '../cells/random.js';
import { createMetricAccumulator, type ClassificationMetrics } from './classificationMetrics.js';
import { clipGradNorm } from './clipGradNorm.js';
import { classCount, encodeDataset, targetClass, type EncodedSequence, type LabelledSequence } from './labelledSequence.js';
import { LOSS_HEADS, lossDivisor, lossRow, type LossKind } from './losses.js';
import { adam } from './optimizers/adam.js';
import type { Optimizer } from './optimizers/optimizer.js';
import { createSequenceBatchRunner, type SequenceBatchRunner } from './sequenceBatchRunner.js';
import { integerOption } from '../options.js';

/** Options of {@link train}; every one has a default. */
export interface TrainOptions {
  /** Passes over the training sequences. Default 10. */
  epochs?: number;
  /** Sequences per mini-batch (padded to the longest, masked). Default 16. */
  batchSize?: number;
  /** `'full'` backpropagates through whole sequences; a number k truncates to chunks of k steps (one update per chunk, state carried). Default `'full'`. */
  bptt?: 'full' | number;
  /** Default: `cross_entropy` for a softmax head, `binary_cross_entropy` for sigmoid, `mse` otherwise. */
  loss?: LossKind;
  /** Default `adam({ lr: 0.003 })`. */
  optimizer?: Optimizer;
  /** Max global gradient norm per update (`clip_grad_norm_`), `null` for none. Default 5. */
  clipGradNorm?: number | null;
  /** Loss weight per class (`Σ w·loss / Σ w`), `'balanced'` (`n / (classes · count_c)`, counted on the training split) or `null`. Default `null`. */
  classWeights?: readonly number[] | 'balanced' | null;
  /** Share of the sequences held out for validation (drawn with `seed`), in [0, 1). Default 0.1 (0 when there is one sequence). */
  validationSplit?: number;
  /** Explicit validation sequences; replaces `validationSplit`. Default none. */
  validationData?: readonly LabelledSequence[];
  /** Validation score that picks the best epoch: `'loss'` (lower is better), `'f1'` or `'accuracy'`. Default `'loss'`. */
  monitor?: 'loss' | 'f1' | 'accuracy';
  /** Stop after this many epochs without a better validation score; `Infinity` never stops early. Default 5. */
  patience?: number;
  /** Put the best epoch's weights back at the end. Default true. */
  restoreBest?: boolean;
  /** Seed of the split and the shuffles: the same seed, data and model give the same weights. Default 0. */
  seed?: number;
  /** Progress after every batch and every epoch. Default none. */
  onProgress?: (event: TrainProgress) => void;
  /** Linear-algebra kernel, `'auto'` (WebAssembly SIMD where it loads) or `'js'`. Default `'auto'`. */
  kernel?: 'auto' | 'js';
}

/** A progress event of {@link train}. */
export type TrainProgress =
  | { kind: 'batch'; epoch: number; batch: number; batches: number; loss: number; gradNorm: number }
  | ({ kind: 'epoch'; epochs: number; elapsedMs: number } & EpochRecord);

/** One epoch's numbers in {@link TrainResult.history}. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss of the epoch's updates. */
  trainLoss: number;
  /** Validation loss and metrics (null without validation data). */
  validation: (ClassificationMetrics & { loss: number }) | null;
  /** Whether this epoch is the best so far (always true without validation). */
  best: boolean;
}

/** What {@link train} did. */
export interface TrainResult {
  history: EpochRecord[];
  /** Epoch whose weights the model holds at the end (with `restoreBest`). */
  bestEpoch: number;
  /** Best validation record (null without validation). */
  bestValidation: EpochRecord['validation'];
  stoppedEarly: boolean;
  /** Updates the optimizer took; non-finite updates skipped. */
  updates: number;
  skippedNonFinite: number;
  trainSequences: number;
  validationSequences: number;
  /** Kernel the matrix products ran on. */
  kernel: string;
}

/**
 * Offline training over mini-batches of labelled sequences, per-frame (tagging) or per-sequence
 * (classification), on the hand-derived float64 gradients of `backwardWindow`.
 *
 * Algorithm:
 * 1. Check and encode the data; split off the validation share with `seed`.
 * 2. Each epoch shuffles the training sequences (seeded) and cuts them into batches.
 * 3. Each batch runs padded and masked through a float64 tape (see
 *    `createSequenceBatchRunner`); for full BPTT one backward over the whole batch, for
 *    truncated BPTT one per chunk of `bptt` steps. Each backward: finiteness check,
 *    `clip_grad_norm_`, the optimizer step inside `model.updateParameters`.
 * 4. After each epoch, score the validation data (loss, accuracy, F1, false alarms, misses),
 *    keep a copy of the best weights, stop after `patience` epochs without improvement.
 * 5. Restore the best weights (`restoreBest`).
 *
 * @example
 * ```ts
 * import { RecurrentModel } from 'seqstream/cells';
 * import { train } from 'seqstream/training';
 * const model = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 8, head: { outputSize: 2, activation: 'softmax' }, seed: 1 });
 * const data = [{ x: [[0, 1], [1, 0]], target: 1 }, { x: [[1, 1]], target: 0 }];
 * const result = train(model, data, { epochs: 20, validationSplit: 0 });
 * console.log(result.history.at(-1)?.trainLoss);
 * ```
 */
export function train(model: RecurrentModel, data: readonly LabelledSequence[], options: TrainOptions = {}): TrainResult {
  const activation = model.head ? model.head.activation : 'identity';
  const loss: LossKind = options.loss ?? (activation === 'softmax' ? 'cross_entropy' : activation === 'sigmoid' ? 'binary_cross_entropy' : 'mse');
  if (!LOSS_HEADS[loss]?.includes(activation)) throw new InvalidOptionError('loss', `a loss for a '${activation}' head (${Object.entries(LOSS_HEADS).filter(([, h]) => h.includes(activation)).map(([l]) => l).join(', ')})`, loss);
  const epochs = integerOption('epochs', options.epochs, 10, 1);
  const batchSize = integerOption('batchSize', options.batchSize, 16, 1);
  const bptt = options.bptt ?? 'full';
  if (bptt !== 'full' && !(Number.isInteger(bptt) && bptt >= 1)) throw new InvalidOptionError('bptt', "'full' or a positive integer", bptt);
  const seed = integerOption('seed', options.seed, 0, 0);
  const patience = options.patience ?? 5;
  if (!(patience >= 1)) throw new InvalidOptionError('patience', 'a number >= 1 (Infinity: never stop early)', patience);
  const monitor = options.monitor ?? 'loss';
  if (!['loss', 'f1', 'accuracy'].includes(monitor)) throw new InvalidOptionError('monitor', "'loss', 'f1' or 'accuracy'", monitor);
  const clip = options.clipGradNorm === undefined ? 5 : options.clipGradNorm;
  if (clip !== null && !(clip > 0)) throw new InvalidOptionError('clipGradNorm', 'a positive number or null', clip);
  const optimizer = options.optimizer ?? adam({ lr: 0.003 });
  const classes = classCount(model);

  // 1. Encode with unit weights first: 'balanced' needs the training split's class counts.
  const random = seededRandom(seed);
  let trainSet: EncodedSequence[];
  let validSet: EncodedSequence[];
  const rawWeights = options.classWeights ?? null;
  if (rawWeights !== null && rawWeights !== 'balanced' && (!Array.isArray(rawWeights) || rawWeights.length !== classes || rawWeights.some((w) => !(w >= 0) || !Number.isFinite(w)))) {
    throw new InvalidOptionError('classWeights', `'balanced', null or ${classes} finite weights >= 0`, rawWeights);
  }
  const order = shuffled(data.length, random);
  let split = options.validationSplit ?? (data.length > 1 ? 0.1 : 0);
  if (!(split >= 0 && split < 1)) throw new InvalidOptionError('validationSplit', 'a number in [0, 1)', split);
  if (options.validationData) split = 0;
  const nValid = Math.min(data.length - 1, Math.round(data.length * split));
  const trainRaw = order.slice(nValid).map((i) => data[i]);
  const validRaw = options.validationData ?? order.slice(0, nValid).map((i) => data[i]);
  let weights: readonly number[] | null = rawWeights === 'balanced' ? null : rawWeights;
  trainSet = encodeDataset(model, trainRaw, loss, weights);
  if (rawWeights === 'balanced') {
    weights = balancedWeights(trainSet, model, classes);
    trainSet = encodeDataset(model, trainRaw, loss, weights);
  }
  validSet = validRaw.length > 0 ? encodeDataset(model, validRaw, loss, weights) : [];

  let longest = 0;
  for (const s of trainSet) longest = Math.max(longest, s.length);
  for (const s of validSet) longest = Math.max(longest, s.length);
  const chunk = bptt === 'full' ? longest : bptt;
  const runner = createSequenceBatchRunner(model, { batchSize, chunkCapacity: Math.min(chunk, longest), loss, kernel: options.kernel });
  const grads = model.parameters().map((p) => new Float64Array(p.data.length));

  const history: EpochRecord[] = [];
  let best: Float32Array[] = model.parameters().map((p) => p.data.slice());
  let bestEpoch = 0;
  let bestScore = Infinity;
  let bestValidation: EpochRecord['validation'] = null;
  let sinceBest = 0;
  let updates = 0;
  let skipped = 0;
  let stoppedEarly = false;
  const started = Date.now();
  const batches = Math.ceil(trainSet.length / batchSize);

  for (let epoch = 1; epoch <= epochs; epoch++) {
    // 2. Seeded shuffle, then batches.
    const perm = shuffled(trainSet.length, random);
    let lossSum = 0;
    let lossCount = 0;
    for (let b = 0; b < batches; b++) {
      const batch = perm.slice(b * batchSize, (b + 1) * batchSize).map((i) => trainSet[i]);
      let batchLoss = 0;
      let batchChunks = 0;
      let gradNorm = NaN;
      runner.run(batch, chunk, grads, (res) => {
        if (res.rows === 0) return;
        const norm = clipGradNorm(grads, clip);
        if (!Number.isFinite(res.loss) || !Number.isFinite(norm.norm)) {
          skipped++;
          return;
        }
        gradNorm = norm.norm;
        model.updateParameters(() => optimizer.step(model.parameters(), grads));
        updates++;
        batchLoss += res.loss;
        batchChunks++;
      });
      if (batchChunks > 0) {
        lossSum += batchLoss / batchChunks;
        lossCount++;
      }
      options.onProgress?.({ kind: 'batch', epoch, batch: b + 1, batches, loss: batchChunks > 0 ? batchLoss / batchChunks : NaN, gradNorm });
    }
    // 4. Validation and the best checkpoint.
    const validation = validSet.length > 0 ? evaluate(runner, validSet, batchSize, chunk, model, loss, classes) : null;
    const score = validation ? (monitor === 'loss' ? validation.loss : -validation[monitor]) : -epoch;
    const isBest = !validation || score < bestScore;
    if (isBest) {
      bestScore = score;
      bestEpoch = epoch;
      bestValidation = validation;
      best = model.parameters().map((p) => p.data.slice());
      sinceBest = 0;
    } else sinceBest++;
    const record: EpochRecord = { epoch, trainLoss: lossCount > 0 ? lossSum / lossCount : NaN, validation, best: isBest };
    history.push(record);
    options.onProgress?.({ kind: 'epoch', epochs, elapsedMs: Date.now() - started, ...record });
    if (sinceBest >= patience && epoch < epochs) {
      stoppedEarly = true;
      break;
    }
  }
  // 5. Best weights back.
  if (options.restoreBest ?? true) {
    const params = model.parameters();
    model.updateParameters(() => params.forEach((p, i) => p.data.set(best[i])));
  } else bestEpoch = history.length;
  return { history, bestEpoch, bestValidation, stoppedEarly, updates, skippedNonFinite: skipped, trainSequences: trainSet.length, validationSequences: validSet.length, kernel: runner.kernel };
}

/**
 * Loss (weighted mean, as trained) and classification metrics of `data` under the model's
 * current weights. Exported for the CLI and tests.
 *
 * @example
 * ```ts
 * const scores = evaluate(runner, encoded, 16, 1000, model, 'cross_entropy', 2);
 * ```
 */
export function evaluate(runner: SequenceBatchRunner, data: readonly EncodedSequence[], batchSize: number, chunk: number, model: RecurrentModel, loss: LossKind, classes: number): ClassificationMetrics & { loss: number } {
  const metrics = createMetricAccumulator(classes);
  const O = model.head ? model.head.outputSize : model.config.hiddenSize;
  const activation = model.head ? model.head.activation : 'identity';
  let lossSum = 0;
  let weightSum = 0;
  for (let b = 0; b < data.length; b += batchSize) {
    runner.run(data.slice(b, b + batchSize), chunk, null, undefined, (seq, t, y, off) => {
      const w = seq.weights[t];
      // z is not kept per row here: for logit losses recover it from y (sigmoid/softmax inverses).
      const z = toLogits(activation, loss, y, off, O);
      lossSum += w * lossRow(loss, activation, z, y.subarray(off, off + O), seq.targets.subarray(t * O, t * O + O), 0, O, 1, null);
      weightSum += w;
      metrics.add(predictedClass(y, off, O, activation), targetClass(seq.targets, t * O, O));
    });
  }
  return { ...metrics.result(), loss: lossSum / lossDivisor(loss, weightSum, O) };
}

function toLogits(activation: string, loss: LossKind, y: Float64Array, off: number, O: number): Float64Array {
  const z = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    const v = y[off + o];
    if (loss === 'mse' || activation === 'identity') z[o] = v;
    else if (activation === 'sigmoid') z[o] = Math.log(Math.max(v, 1e-300)) - Math.log(Math.max(1 - v, 1e-300));
    else z[o] = Math.log(Math.max(v, 1e-300));
  }
  return z;
}

function predictedClass(y: Float64Array, off: number, O: number, activation: string): number {
  if (O === 1) return y[off] >= (activation === 'identity' ? 0 : 0.5) ? 1 : 0;
  return targetClass(y, off, O);
}

function balancedWeights(set: readonly EncodedSequence[], model: RecurrentModel, classes: number): number[] {
  const O = model.head ? model.head.outputSize : model.config.hiddenSize;
  const counts = new Float64Array(classes);
  let n = 0;
  for (const s of set)
    for (let t = 0; t < s.length; t++)
      if (s.weights[t] > 0) {
        counts[targetClass(s.targets, t * O, O)]++;
        n++;
      }
  return Array.from(counts, (c) => (c > 0 ? n / (classes * c) : 0));
}

function shuffled(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

