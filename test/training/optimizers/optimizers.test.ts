import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { adam, createOptimizer, optimizerFromJSON, rmsprop, sgd, type Optimizer } from '../../../src/training/index.js';
import { type Parameter } from '../../../src/cells/index.js';
import { torchPythonFor } from '../../support/prerequisites.js';

// Debian's python3-torch lives under /usr/bin/python3, which a pyenv `python3` on PATH may hide:
// every candidate is tried, and under CI=true a missing PyTorch fails the file.
const python = torchPythonFor('optimizers equal PyTorch 1.13');
const hasTorch = python !== null;

/** Three steps of each PyTorch optimizer from fixed params and per-step gradients, float64, one python run. */
function torchSteps(ctors: string[], p0: number[], grads: number[][]): number[][] {
  const script = `
import json, torch
out = []
for ctor in ${JSON.stringify(ctors)}:
    p = torch.nn.Parameter(torch.tensor(${JSON.stringify(p0)}, dtype=torch.float64))
    opt = eval("torch.optim." + ctor)
    for g in ${JSON.stringify(grads)}:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    out.append(p.detach().tolist())
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(python as string, ['-c', script], { encoding: 'utf8' }));
}

function ourSteps(opt: Optimizer, p0: number[], grads: number[][]): number[] {
  const param: Parameter = { name: 'w', shape: [p0.length], data: Float32Array.from(p0) };
  for (const g of grads) opt.step([param], [Float64Array.from(g)]);
  return Array.from(param.data);
}

const p0 = [0.5, -0.25, 0.125, 1.5];
const grads = [
  [0.1, -0.2, 0.3, 0.0],
  [0.05, 0.2, -0.1, 0.4],
  [-0.3, 0.01, 0.2, -0.05],
];

const CASES: Array<[string, () => Optimizer, string]> = [
  ['SGD', () => sgd({ lr: 0.1 }), 'SGD([p], lr=0.1)'],
  ['SGD momentum (buffer starts as first grad)', () => sgd({ lr: 0.1, momentum: 0.9 }), 'SGD([p], lr=0.1, momentum=0.9)'],
  ['SGD nesterov + weight decay', () => sgd({ lr: 0.1, momentum: 0.8, nesterov: true, weightDecay: 0.01 }), 'SGD([p], lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)'],
  ['SGD dampening', () => sgd({ lr: 0.1, momentum: 0.5, dampening: 0.3 }), 'SGD([p], lr=0.1, momentum=0.5, dampening=0.3)'],
  ['Adam', () => adam({ lr: 0.01 }), 'Adam([p], lr=0.01)'],
  ['Adam betas eps weight decay', () => adam({ lr: 0.05, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1 }), 'Adam([p], lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)'],
  ['RMSprop defaults', () => rmsprop({ lr: 0.01 }), 'RMSprop([p], lr=0.01)'],
  ['RMSprop centered momentum', () => rmsprop({ lr: 0.01, alpha: 0.9, momentum: 0.5, centered: true }), 'RMSprop([p], lr=0.01, alpha=0.9, momentum=0.5, centered=True)'],
];

describe.skipIf(!hasTorch)('optimizers equal PyTorch 1.13', () => {
  let refs: number[][] = [];
  beforeAll(() => {
    refs = torchSteps(CASES.map((c) => c[2]), p0, grads);
  });
  it.each(CASES.map((c, i) => [...c, i] as const))('%s', (_name, make, _ctor, i) => {
    const ref = refs[i];
    const ours = ourSteps(make(), p0, grads);
    // our parameters are float32: compare within float32 rounding of the result
    ours.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(1e-7 + 1e-6 * Math.abs(ref[i])));
  });
});

describe('optimizer state', () => {
  it.each(CASES)('%s resumes exactly after a JSON round trip', (_name, make) => {
    const straight = ourSteps(make(), p0, grads);
    const opt = make();
    const param: Parameter = { name: 'w', shape: [4], data: Float32Array.from(p0) };
    opt.step([param], [Float64Array.from(grads[0])]);
    const restored = optimizerFromJSON(JSON.parse(JSON.stringify(opt.toJSON())));
    expect(restored.steps).toBe(1);
    expect(restored.type).toBe(opt.type);
    restored.step([param], [Float64Array.from(grads[1])]);
    restored.step([param], [Float64Array.from(grads[2])]);
    expect(Array.from(param.data)).toEqual(straight);
  });

  it('builds from PyTorch-style specs (fixture config.optimizer)', () => {
    expect(createOptimizer({ type: 'SGD', lr: 0.1, momentum: 0, weight_decay: 0, dampening: 0, nesterov: false }).type).toBe('sgd');
    expect(createOptimizer({ type: 'Adam', lr: 0.01, betas: [0.9, 0.99], eps: 1e-8 }).type).toBe('adam');
    expect(createOptimizer({ type: 'RMSprop', lr: 0.01 }).type).toBe('rmsprop');
  });

  it('rejects bad options and unknown formats with stable codes', () => {
    expect(() => adam({ lr: -1 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => adam({ betas: [1, 0.9] })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => sgd({ nesterov: true })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => rmsprop({ alpha: 2 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => createOptimizer({ type: 'Adagrad' })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => createOptimizer({ type: 'Adam', amsgrad: true })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => optimizerFromJSON({ format: 'nope' })).toThrow(expect.objectContaining({ code: 'SEQ_OPTIMIZER_FORMAT' }));
  });

  it('lets the learning rate change between steps (a schedule)', () => {
    const opt = sgd({ lr: 0.1 });
    const param: Parameter = { name: 'w', shape: [1], data: Float32Array.of(1) };
    opt.lr = 0.5;
    opt.step([param], [Float64Array.of(1)]);
    expect(param.data[0]).toBeCloseTo(0.5, 6);
    expect(opt.toJSON().options.lr).toBe(0.5);
  });
});
