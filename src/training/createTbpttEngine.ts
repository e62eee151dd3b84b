import { createFusedTbpttEngine } from './fusedTbpttEngine.js';
import type { RecurrentModel } from '../cells/model.js';
import type { TbpttEngine, TbpttEngineOptions } from './tbpttEngine.js';
import { createTensorTbpttEngine } from './tensorTbpttEngine.js';

/**
 * A TBPTT engine of the given kind: `'fused'` (hand-derived gradients in float loops, fast) or
 * `'tfjs'` (tfjs autograd on the current backend).
 *
 * @example
 * ```ts
 * const engine = createTbpttEngine(model, 'fused', { k1: 32, k2: 32, loss: 'mse' });
 * ```
 */
export function createTbpttEngine(model: RecurrentModel, kind: 'fused' | 'tfjs', options: TbpttEngineOptions): TbpttEngine {
  return kind === 'tfjs' ? createTensorTbpttEngine(model, options) : createFusedTbpttEngine(model, options);
}
