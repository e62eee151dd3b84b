import { InvalidOptionError } from '../../errors.js';
import { defineOptimizer, paramBuffers, type Optimizer, type OptimizerJSON } from './optimizer.js';
import { numberOption, booleanOption } from '../../options.js';

/** Options of {@link sgd}, PyTorch's `torch.optim.SGD`. */
export interface SgdOptions {
  /** Learning rate. Default 0.01. */
  lr?: number;
  /** Momentum factor. Default 0 (plain SGD). */
  momentum?: number;
  /** Dampening of the momentum. Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient (`g + wd * p`). Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs `momentum > 0` and `dampening = 0`). Default false. */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with PyTorch's semantics: `g += wd * p`; with momentum the buffer
 * starts as the first gradient, then `buf = momentum * buf + (1 - dampening) * g`; the step uses
 * `buf` (or `g + momentum * buf` with Nesterov); `p -= lr * step`.
 *
 * @example
 * ```ts
 * const opt = sgd({ lr: 0.1, momentum: 0.9 });
 * model.updateParameters(() => opt.step(model.parameters(), grads));
 * ```
 */
export function sgd(options: SgdOptions = {}, restored?: OptimizerJSON): Optimizer {
  const lr = numberOption('sgd.lr', options.lr, 0.01, { min: 0 });
  const momentum = numberOption('sgd.momentum', options.momentum, 0, { min: 0 });
  const dampening = numberOption('sgd.dampening', options.dampening, 0, { min: 0 });
  const weightDecay = numberOption('sgd.weightDecay', options.weightDecay, 0, { min: 0 });
  const nesterov = booleanOption('sgd.nesterov', options.nesterov, false);
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new InvalidOptionError('sgd.nesterov', 'used with momentum > 0 and dampening 0', nesterov);
  return defineOptimizer('sgd', { lr, momentum, dampening, weightDecay, nesterov }, restored, (params, grads, rate, state) => {
    for (let i = 0; i < params.length; i++) {
      const p = params[i].data;
      const g = grads[i];
      const n = p.length;
      if (momentum === 0) {
        for (let j = 0; j < n; j++) p[j] -= rate * (g[j] + weightDecay * p[j]);
        continue;
      }
      const fresh = !state.get(params[i].name);
      const [buf] = paramBuffers(state, params[i].name, ['momentum_buffer'], n);
      for (let j = 0; j < n; j++) {
        const d = g[j] + weightDecay * p[j];
        buf[j] = fresh ? d : momentum * buf[j] + (1 - dampening) * d;
        p[j] -= rate * (nesterov ? d + momentum * buf[j] : buf[j]);
      }
    }
  });
}
