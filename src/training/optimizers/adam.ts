import { defineOptimizer, paramBuffers, reserveParamBuffers, type Optimizer, type OptimizerJSON } from './optimizer.js';
import { numberOption } from '../../options.js';

/** Options of {@link adam}, PyTorch's `torch.optim.Adam`. */
export interface AdamOptions {
  /** Learning rate. Default 0.001. */
  lr?: number;
  /** Decay rates `[beta1, beta2]` of the moment estimates. Default `[0.9, 0.999]`. */
  betas?: readonly [number, number];
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient (`g + wd * p`, not AdamW). Default 0. */
  weightDecay?: number;
}

/**
 * Adam with PyTorch's bias-corrected formula: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
 * `p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
 *
 * @example
 * ```ts
 * const opt = adam({ lr: 1e-3 });
 * model.updateParameters(() => opt.step(model.parameters(), grads));
 * const saved = JSON.stringify(opt.toJSON()); // resume later with optimizerFromJSON
 * ```
 */
export function adam(options: AdamOptions = {}, restored?: OptimizerJSON): Optimizer {
  const lr = numberOption('adam.lr', options.lr, 1e-3, { min: 0 });
  const betas = options.betas ?? [0.9, 0.999];
  const b1 = numberOption('adam.betas[0]', betas[0], 0.9, { min: 0, below: 1 });
  const b2 = numberOption('adam.betas[1]', betas[1], 0.999, { min: 0, below: 1 });
  const eps = numberOption('adam.eps', options.eps, 1e-8, { min: 0 });
  const weightDecay = numberOption('adam.weightDecay', options.weightDecay, 0, { min: 0 });
  return defineOptimizer('adam', { lr, betas: [b1, b2], eps, weightDecay }, restored, (params, grads, rate, state, steps) => {
    const stepSize = rate / (1 - Math.pow(b1, steps));
    // PyTorch: denom = sqrt(v) / sqrt(1 - b2^t) + eps; multiplying by the inverse saves a division per element
    const invBc2Sqrt = 1 / Math.sqrt(1 - Math.pow(b2, steps));
    if (state.size < params.length) reserveParamBuffers(state, params, ADAM_BUFFERS);
    for (let i = 0; i < params.length; i++) {
      const p = params[i].data;
      const g = grads[i];
      const n = p.length;
      const [m, v] = paramBuffers(state, params[i].name, ADAM_BUFFERS, n);
      adamUpdate(p, g, m, v, n, b1, b2, stepSize, invBc2Sqrt, eps, weightDecay);
    }
  });
}

const ADAM_BUFFERS = ['exp_avg', 'exp_avg_sq'] as const;

/** The per-element update, a top-level function so the engine compiles one tight loop for it. */
function adamUpdate(
  p: Float32Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  n: number,
  b1: number,
  b2: number,
  stepSize: number,
  invBc2Sqrt: number,
  eps: number,
  weightDecay: number,
): void {
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  for (let j = 0; j < n; j++) {
    const d = weightDecay === 0 ? g[j] : g[j] + weightDecay * p[j];
    const mj = b1 * m[j] + c1 * d;
    const vj = b2 * v[j] + c2 * d * d;
    m[j] = mj;
    v[j] = vj;
    p[j] -= (stepSize * mj) / (Math.sqrt(vj) * invBc2Sqrt + eps);
  }
}
