import { InvalidOptionError, ModelFormatError } from '../../errors.js';
import { adam, type AdamOptions } from './adam.js';
import type { Optimizer, OptimizerJSON } from './optimizer.js';
import { rmsprop, type RmspropOptions } from './rmsprop.js';
import { sgd, type SgdOptions } from './sgd.js';

/**
 * Restores an optimizer saved with `toJSON()`: same options, step count and buffers, so training
 * resumes exactly where it stopped.
 *
 * @example
 * ```ts
 * const opt2 = optimizerFromJSON(JSON.parse(JSON.stringify(opt.toJSON())));
 * ```
 */
export function optimizerFromJSON(json: unknown): Optimizer {
  const j = json as Partial<OptimizerJSON> | null;
  if (!j || typeof j !== 'object' || j.format !== 'seqstream-optimizer' || j.version !== 1) {
    throw new ModelFormatError('SEQ_OPTIMIZER_FORMAT', "Not a seqstream optimizer: expected format 'seqstream-optimizer' version 1", {});
  }
  const restored = j as OptimizerJSON;
  if (typeof restored.steps !== 'number' || typeof restored.state !== 'object') throw new ModelFormatError('SEQ_OPTIMIZER_FORMAT', 'Optimizer JSON lacks steps or state', {});
  if (restored.type === 'sgd') return sgd(restored.options as SgdOptions, restored);
  if (restored.type === 'adam') return adam(restored.options as AdamOptions, restored);
  if (restored.type === 'rmsprop') return rmsprop(restored.options as RmspropOptions, restored);
  throw new ModelFormatError('SEQ_OPTIMIZER_FORMAT', `Unknown optimizer type ${String(restored.type)}`, { type: restored.type });
}

/** A PyTorch-style optimizer description, e.g. a fixture's `config.optimizer`. */
export interface OptimizerSpec {
  /** `'SGD' | 'Adam' | 'RMSprop'` (any case). */
  type: string;
  lr?: number;
  momentum?: number;
  dampening?: number;
  weight_decay?: number;
  nesterov?: boolean;
  betas?: [number, number];
  eps?: number;
  alpha?: number;
  centered?: boolean;
  /** Anything else PyTorch records is ignored only when it is at its default. */
  [key: string]: unknown;
}

/**
 * Builds an optimizer from a PyTorch-style description (`{ type: 'Adam', lr, betas, eps }`).
 * Options this library does not implement (amsgrad, maximize, ...) must be absent or off.
 *
 * @example
 * ```ts
 * createOptimizer({ type: 'SGD', lr: 0.1, momentum: 0.9 });
 * ```
 */
export function createOptimizer(spec: OptimizerSpec): Optimizer {
  if (!spec || typeof spec !== 'object' || typeof spec.type !== 'string') throw new InvalidOptionError('optimizer', "an object with type 'SGD', 'Adam' or 'RMSprop'", spec);
  for (const flag of ['amsgrad', 'maximize', 'foreach', 'capturable', 'differentiable', 'fused']) {
    if (spec[flag]) throw new InvalidOptionError(`optimizer.${flag}`, 'false or absent (not implemented)', spec[flag]);
  }
  const type = spec.type.toLowerCase();
  const weightDecay = spec.weight_decay;
  if (type === 'sgd') return sgd({ lr: spec.lr, momentum: spec.momentum, dampening: spec.dampening, weightDecay, nesterov: spec.nesterov });
  if (type === 'adam') return adam({ lr: spec.lr, betas: spec.betas, eps: spec.eps, weightDecay });
  if (type === 'rmsprop') return rmsprop({ lr: spec.lr, alpha: spec.alpha, eps: spec.eps, momentum: spec.momentum, centered: spec.centered, weightDecay });
  throw new InvalidOptionError('optimizer.type', "'SGD', 'Adam' or 'RMSprop'", spec.type);
}
