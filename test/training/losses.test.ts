import { describe, expect, it } from 'vitest';
import { clipGradNorm, lossDivisor, lossRow, outputLoss, type LossKind } from '../../src/training/index.js';
import { type HeadActivation } from '../../src/cells/index.js';

const COMBOS: Array<[LossKind, HeadActivation]> = [
  ['mse', 'identity'],
  ['mse', 'sigmoid'],
  ['mse', 'softmax'],
  ['cross_entropy', 'softmax'],
  ['cross_entropy', 'identity'],
  ['binary_cross_entropy', 'sigmoid'],
  ['binary_cross_entropy', 'identity'],
];

function activate(z: number[], a: HeadActivation): number[] {
  if (a === 'sigmoid') return z.map((v) => 1 / (1 + Math.exp(-v)));
  if (a === 'softmax') {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((v) => v / s);
  }
  return z;
}

describe('lossRow', () => {
  const z = [0.3, -1.2, 2.1];
  const t = [0.2, 0.7, 0.1];
  it.each(COMBOS)('%s on a %s head: gradient equals finite differences of the loss', (loss, act) => {
    const f = (zz: number[]) => lossRow(loss, act, zz, activate(zz, act), t, 0, 3, 1, null);
    const dz = new Float64Array(3);
    lossRow(loss, act, z, activate(z, act), t, 0, 3, 1, dz);
    for (let o = 0; o < 3; o++) {
      const up = z.slice();
      const dn = z.slice();
      up[o] += 1e-6;
      dn[o] -= 1e-6;
      expect(dz[o]).toBeCloseTo((f(up) - f(dn)) / 2e-6, 6);
    }
  });

  it('matches the textbook values (PyTorch reduction mean)', () => {
    // mse: mean((y-t)^2) over elements
    expect(lossRow('mse', 'identity', [1, 2], [1, 2], [0, 0], 0, 2, 1, null) / lossDivisor('mse', 1, 2)).toBe(2.5);
    // cross-entropy of logits [0, 0] against class 1: log 2
    expect(lossRow('cross_entropy', 'identity', [0, 0], [0, 0], [0, 1], 0, 2, 1, null)).toBeCloseTo(Math.log(2), 12);
    // BCE with logits at z = 0: log 2 whatever the target
    expect(lossRow('binary_cross_entropy', 'identity', [0], [0], [0.3], 0, 1, 1, null)).toBeCloseTo(Math.log(2), 12);
    // stable for huge logits
    expect(Number.isFinite(lossRow('binary_cross_entropy', 'identity', [1000], [1000], [0], 0, 1, 1, null))).toBe(true);
    expect(Number.isFinite(lossRow('cross_entropy', 'identity', [1000, -1000], [1000, -1000], [0, 1], 0, 2, 1, null))).toBe(true);
  });

  it.each(COMBOS)('outputLoss (%s, %s head) reports the same loss from the head output', (loss, act) => {
    const ref = lossRow(loss, act, z, activate(z, act), t, 0, 3, 1, null) / lossDivisor(loss, 1, 3);
    expect(outputLoss(loss, act, activate(z, act), t)).toBeCloseTo(ref, 9);
  });
});

describe('clipGradNorm', () => {
  it('scales like torch.nn.utils.clip_grad_norm_: min(1, max/(norm+1e-6))', () => {
    const g = [Float64Array.of(3), Float64Array.of(4)];
    const r = clipGradNorm(g, 1);
    expect(r.norm).toBe(5);
    expect(r.clipped).toBe(true);
    expect(r.scale).toBeCloseTo(1 / (5 + 1e-6), 15);
    expect(g[0][0]).toBeCloseTo(3 / (5 + 1e-6), 15);
  });
  it('leaves small gradients and non-finite norms alone', () => {
    const g = [Float64Array.of(0.3, 0.4)];
    expect(clipGradNorm(g, 1)).toEqual({ norm: 0.5, scale: 1, clipped: false });
    expect(Array.from(g[0])).toEqual([0.3, 0.4]);
    const bad = [Float64Array.of(NaN, 1)];
    expect(clipGradNorm(bad, 1).clipped).toBe(false);
    expect(bad[0][1]).toBe(1);
    expect(clipGradNorm([Float64Array.of(3, 4)], null)).toEqual({ norm: 5, scale: 1, clipped: false });
  });
});
