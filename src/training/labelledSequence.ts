import { InvalidInputError } from '../errors.js';
import type { RecurrentModel } from '../cells/model.js';
import type { LossKind } from './losses.js';

/**
 * One labelled training sequence for {@link train}: `x` holds T input vectors; give either
 * `frameTargets` (tagging: one target per step, `null` for a step without a label) or `target`
 * (classification: one target for the whole sequence, scored on its last step). A target is a
 * class index (one-hot for `cross_entropy`, the value itself for a one-output `binary_cross_entropy`
 * or `mse` head) or a vector of the head's output size.
 */
export interface LabelledSequence {
  readonly x: readonly ArrayLike<number>[];
  readonly frameTargets?: readonly (number | ArrayLike<number> | null)[];
  readonly target?: number | ArrayLike<number>;
}

/** A {@link LabelledSequence} flattened to float64, with one loss weight per step (0 = no loss). */
export interface EncodedSequence {
  readonly length: number;
  /** `length * inputSize` values. */
  readonly x: Float64Array;
  /** `length * outputSize` values. */
  readonly targets: Float64Array;
  /** Loss weight per step: 0 where there is no target, else the class weight of the target. */
  readonly weights: Float64Array;
}

/**
 * Checks and flattens a dataset for the trainer. Bad data throws an {@link InvalidInputError}
 * naming the sequence and step: `SEQ_TRAIN_EMPTY` (no sequences, or one with no steps or no
 * target), `SEQ_INPUT_SHAPE`, `SEQ_INPUT_NON_FINITE`, `SEQ_TARGET_SHAPE`, `SEQ_TARGET_RANGE`
 * (class index outside the head, a binary target outside [0, 1]), `SEQ_TARGET_NON_FINITE`.
 * `classWeights[c]` weighs every target of class `c` (vector targets: `Σ_c t_c · w_c`).
 *
 * @example
 * ```ts
 * const [seq] = encodeDataset(model, [{ x: [[0.1], [0.2]], frameTargets: [0, 1] }], 'cross_entropy', null);
 * seq.weights; // Float64Array [1, 1]
 * ```
 */
export function encodeDataset(model: RecurrentModel, data: readonly LabelledSequence[], loss: LossKind, classWeights: readonly number[] | null): EncodedSequence[] {
  if (!Array.isArray(data) || data.length === 0) throw new InvalidInputError('SEQ_TRAIN_EMPTY', 'train() needs at least one labelled sequence', {});
  const I = model.config.inputSize;
  const O = model.head ? model.head.outputSize : model.config.hiddenSize;
  return data.map((seq, n) => {
    const T = Array.isArray(seq?.x) ? seq.x.length : 0;
    if (T === 0) throw new InvalidInputError('SEQ_TRAIN_EMPTY', `Sequence ${n} has no steps (x must be a non-empty array of vectors)`, { sequence: n });
    const x = new Float64Array(T * I);
    for (let t = 0; t < T; t++) {
      const v = seq.x[t];
      if (!v || v.length !== I) throw new InvalidInputError('SEQ_INPUT_SHAPE', `Sequence ${n} step ${t}: expected ${I} inputs, received ${v ? v.length : String(v)}`, { sequence: n, step: t, expected: [I] });
      for (let k = 0; k < I; k++) {
        const value = Number(v[k]);
        if (!Number.isFinite(value)) throw new InvalidInputError('SEQ_INPUT_NON_FINITE', `Sequence ${n} step ${t}: input ${k} is ${String(v[k])}`, { sequence: n, step: t, index: k });
        x[t * I + k] = value;
      }
    }
    const targets = new Float64Array(T * O);
    const weights = new Float64Array(T);
    const put = (t: number, target: number | ArrayLike<number>): void => {
      const where = `Sequence ${n} step ${t}`;
      if (typeof target === 'number') {
        if (!Number.isFinite(target)) throw new InvalidInputError('SEQ_TARGET_NON_FINITE', `${where}: target is ${target}`, { sequence: n, step: t });
        if (loss === 'cross_entropy') {
          if (!Number.isInteger(target) || target < 0 || target >= O) throw new InvalidInputError('SEQ_TARGET_RANGE', `${where}: class index must be an integer in [0, ${O - 1}], received ${target}`, { sequence: n, step: t });
          targets[t * O + target] = 1;
        } else {
          if (O !== 1) throw new InvalidInputError('SEQ_TARGET_SHAPE', `${where}: a number target needs a one-output head (this one has ${O}); pass a vector`, { sequence: n, step: t });
          targets[t * O] = target;
        }
      } else {
        if (!target || target.length !== O) throw new InvalidInputError('SEQ_TARGET_SHAPE', `${where}: expected a class index or ${O} target values, received ${target ? target.length : String(target)}`, { sequence: n, step: t, expected: [O] });
        for (let o = 0; o < O; o++) {
          const value = Number(target[o]);
          if (!Number.isFinite(value)) throw new InvalidInputError('SEQ_TARGET_NON_FINITE', `${where}: target ${o} is ${String(target[o])}`, { sequence: n, step: t });
          targets[t * O + o] = value;
        }
      }
      if (loss === 'binary_cross_entropy')
        for (let o = 0; o < O; o++)
          if (targets[t * O + o] < 0 || targets[t * O + o] > 1) throw new InvalidInputError('SEQ_TARGET_RANGE', `${where}: binary cross-entropy targets must lie in [0, 1], received ${targets[t * O + o]}`, { sequence: n, step: t });
      weights[t] = classWeights ? classWeightOf(targets, t * O, O, loss, classWeights) : 1;
    };
    if (seq.frameTargets !== undefined) {
      if (seq.target !== undefined) throw new InvalidInputError('SEQ_TARGET_SHAPE', `Sequence ${n}: give frameTargets or target, not both`, { sequence: n });
      if (!Array.isArray(seq.frameTargets) || seq.frameTargets.length !== T) throw new InvalidInputError('SEQ_TARGET_SHAPE', `Sequence ${n}: frameTargets must have one entry per step (${T}), received ${Array.isArray(seq.frameTargets) ? seq.frameTargets.length : typeof seq.frameTargets}`, { sequence: n });
      seq.frameTargets.forEach((target: number | ArrayLike<number> | null, t: number) => {
        if (target !== null && target !== undefined) put(t, target);
      });
    } else if (seq.target !== undefined) put(T - 1, seq.target);
    if (!weights.some((w) => w > 0)) throw new InvalidInputError('SEQ_TRAIN_EMPTY', `Sequence ${n} has no target with a positive weight`, { sequence: n });
    return { length: T, x, targets, weights };
  });
}

/** Class index of a target row: argmax for several outputs, `t >= 0.5` for one (binary). */
export function targetClass(targets: ArrayLike<number>, off: number, O: number): number {
  if (O === 1) return targets[off] >= 0.5 ? 1 : 0;
  let best = 0;
  for (let o = 1; o < O; o++) if (targets[off + o] > targets[off + best]) best = o;
  return best;
}

/** Number of classes the metrics and class weights see: O, or 2 for a one-output head. */
export function classCount(model: RecurrentModel): number {
  const O = model.head ? model.head.outputSize : model.config.hiddenSize;
  return O === 1 ? 2 : O;
}

function classWeightOf(targets: Float64Array, off: number, O: number, loss: LossKind, classWeights: readonly number[]): number {
  if (O === 1) {
    const t = targets[off];
    return loss === 'mse' ? classWeights[targetClass(targets, off, O)] : t * classWeights[1] + (1 - t) * classWeights[0];
  }
  let w = 0;
  for (let o = 0; o < O; o++) w += targets[off + o] * classWeights[o];
  return loss === 'cross_entropy' ? w : classWeights[targetClass(targets, off, O)];
}
