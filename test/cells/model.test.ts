import { describe, expect, it } from 'vitest';
import { RecurrentModel, runSequence, type CellKind } from '../../src/cells/index.js';
import { codeOf } from '../support/errors.js';

const kinds: CellKind[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];

describe('RecurrentModel', () => {
  it.each(kinds)('%s has PyTorch names, shapes and init bounds', (cell) => {
    const H = 16;
    const m = RecurrentModel.create({ cell, inputSize: 3, hiddenSize: H, numLayers: 2, head: { outputSize: 2 }, seed: 5 });
    const G = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 }[cell];
    expect(m.parameters().map((p) => [p.name, p.shape])).toEqual([
      ['weight_ih_l0', [G * H, 3]],
      ['weight_hh_l0', [G * H, H]],
      ['bias_ih_l0', [G * H]],
      ['bias_hh_l0', [G * H]],
      ['weight_ih_l1', [G * H, H]],
      ['weight_hh_l1', [G * H, H]],
      ['bias_ih_l1', [G * H]],
      ['bias_hh_l1', [G * H]],
      ['head.weight', [2, H]],
      ['head.bias', [2]],
    ]);
    const bound = 1 / Math.sqrt(H);
    const all = m.parameters().flatMap((p) => Array.from(p.data));
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
    // Spread over the whole range, not a constant.
    expect(Math.max(...all)).toBeGreaterThan(bound * 0.9);
    expect(Math.min(...all)).toBeLessThan(-bound * 0.9);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const a = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, seed: 1 });
    const b = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, seed: 1 });
    const c = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, seed: 2 });
    expect(Array.from(a.layers[0].weightIh)).toEqual(Array.from(b.layers[0].weightIh));
    expect(Array.from(a.layers[0].weightIh)).not.toEqual(Array.from(c.layers[0].weightIh));
  });

  it.each(kinds)('%s round-trips through JSON with identical outputs', (cell) => {
    const m = RecurrentModel.create({ cell, inputSize: 3, hiddenSize: 5, numLayers: 2, head: { outputSize: 2, activation: 'softmax' }, seed: 9 });
    const copy = RecurrentModel.fromJSON(JSON.parse(JSON.stringify(m)));
    expect(copy.config).toEqual(m.config);
    const x = [[[0.5, -1, 2], [0.1, 0.2, 0.3], [-2, 0, 1]]];
    expect(runSequence(copy, x)).toEqual(runSequence(m, x));
  });

  it('softmax head sums to one, sigmoid head lies in (0, 1)', () => {
    const soft = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, head: { outputSize: 3, activation: 'softmax' }, seed: 3 });
    const y = soft.step(soft.createState(), [1, -1]);
    expect(y.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const sig = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, head: { outputSize: 3, activation: 'sigmoid' }, seed: 3 });
    for (const v of sig.step(sig.createState(), [100, -100])) expect(v > 0 && v < 1).toBe(true);
  });

  it('rejects bad configs synchronously with SEQ_INVALID_OPTION', () => {
    expect(codeOf(() => RecurrentModel.create({ cell: 'lstm', inputSize: 0, hiddenSize: 4 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => RecurrentModel.create({ cell: 'tree' as CellKind, inputSize: 1, hiddenSize: 4 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2.5 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, head: { outputSize: 1, activation: 'relu' as never } }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, seed: 0.5 }))).toBe('SEQ_INVALID_OPTION');
  });

  it('rejects bad parameter sets with stable codes', () => {
    const m = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3, seed: 1 });
    const json = m.toJSON();
    const missing = { ...json, params: { ...json.params } };
    delete missing.params.bias_hh_l0;
    expect(codeOf(() => RecurrentModel.fromJSON(missing))).toBe('SEQ_PARAM_MISSING');
    expect(codeOf(() => RecurrentModel.fromJSON({ ...json, params: { ...json.params, extra: [1] } }))).toBe('SEQ_PARAM_UNKNOWN');
    expect(codeOf(() => RecurrentModel.fromJSON({ ...json, params: { ...json.params, bias_ih_l0: [1, 2] } }))).toBe('SEQ_PARAM_SHAPE');
    expect(codeOf(() => RecurrentModel.fromJSON({ ...json, params: { ...json.params, bias_ih_l0: [1, NaN, 2] } }))).toBe('SEQ_PARAM_VALUE');
    expect(codeOf(() => RecurrentModel.fromJSON({ ...json, version: 2 }))).toBe('SEQ_MODEL_FORMAT');
    expect(codeOf(() => RecurrentModel.fromJSON({ hello: 1 }))).toBe('SEQ_MODEL_FORMAT');
  });

  it('publishes parameter updates as a new version that the next step uses', () => {
    const m = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, head: { outputSize: 1 }, seed: 1 });
    const oldBias = m.head!.bias[0];
    const before = m.step(m.createState(), [1])[0];
    const v = m.version;
    m.updateParameters((p) => p.get('head.bias')!.data.fill(10));
    expect(m.version).toBe(v + 1);
    // Identity head: y = W h + b, so only the bias term moves.
    expect(m.step(m.createState(), [1])[0]).toBeCloseTo(before - oldBias + 10, 5);
  });
});
