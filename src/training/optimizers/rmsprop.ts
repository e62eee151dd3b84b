import { defineOptimizer, paramBuffers, type Optimizer, type OptimizerJSON } from './optimizer.js';
import { numberOption, booleanOption } from '../../options.js';

/** Options of {@link rmsprop}, PyTorch's `torch.optim.RMSprop`. */
export interface RmspropOptions {
  /** Learning rate. Default 0.01. */
  lr?: number;
  /** Smoothing constant of the squared-gradient average. Default 0.99. */
  alpha?: number;
  /** Added to the denominator after the square root. Default 1e-8. */
  eps?: number;
  /** Momentum factor. Default 0. */
  momentum?: number;
  /** Normalise by the estimated variance (subtract the squared mean gradient). Default false. */
  centered?: boolean;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
}

/**
 * RMSProp with PyTorch's formula: `s = alpha s + (1-alpha) g^2`, `avg = sqrt(s) + eps`
 * (`sqrt(s - gbar^2) + eps` when centered); `p -= lr * g / avg`, or with momentum
 * `buf = momentum * buf + g / avg`, `p -= lr * buf`.
 *
 * @example
 * ```ts
 * const opt = rmsprop({ lr: 1e-3 });
 * model.updateParameters(() => opt.step(model.parameters(), grads));
 * ```
 */
export function rmsprop(options: RmspropOptions = {}, restored?: OptimizerJSON): Optimizer {
  const lr = numberOption('rmsprop.lr', options.lr, 0.01, { min: 0 });
  const alpha = numberOption('rmsprop.alpha', options.alpha, 0.99, { min: 0, below: 1 });
  const eps = numberOption('rmsprop.eps', options.eps, 1e-8, { min: 0 });
  const momentum = numberOption('rmsprop.momentum', options.momentum, 0, { min: 0 });
  const weightDecay = numberOption('rmsprop.weightDecay', options.weightDecay, 0, { min: 0 });
  const centered = booleanOption('rmsprop.centered', options.centered, false);
  return defineOptimizer('rmsprop', { lr, alpha, eps, momentum, centered, weightDecay }, restored, (params, grads, rate, state) => {
    for (let i = 0; i < params.length; i++) {
      const p = params[i].data;
      const g = grads[i];
      const n = p.length;
      const [sq, ga, buf] = paramBuffers(state, params[i].name, ['square_avg', 'grad_avg', 'momentum_buffer'], n);
      for (let j = 0; j < n; j++) {
        const d = weightDecay === 0 ? g[j] : g[j] + weightDecay * p[j];
        sq[j] = alpha * sq[j] + (1 - alpha) * d * d;
        let avg: number;
        if (centered) {
          ga[j] = alpha * ga[j] + (1 - alpha) * d;
          avg = Math.sqrt(sq[j] - ga[j] * ga[j]) + eps;
        } else avg = Math.sqrt(sq[j]) + eps;
        if (momentum > 0) {
          buf[j] = momentum * buf[j] + d / avg;
          p[j] -= rate * buf[j];
        } else p[j] -= (rate * d) / avg;
      }
    }
  });
}
