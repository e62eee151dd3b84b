import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, loadStateDict, nest, parseSafetensors, RecurrentModel, runSequence, safetensorsMetadata, writeSafetensors } from '../../src/cells/index.js';
import { codeOf } from '../support/errors.js';
import { OWN_FIXTURES } from '../support/fixtures.js';

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

const x = [[[0.3, -0.2], [1, 0.5], [-1, 2]]];

describe('loadStateDict', () => {
  it('infers cell kind, sizes, depth and head from PyTorch names and shapes', () => {
    for (const cell of ['lstm', 'gru', 'rnn_tanh'] as const) {
      const m = RecurrentModel.create({ cell, inputSize: 2, hiddenSize: 3, numLayers: 2, head: { outputSize: 4 }, seed: 2 });
      const loaded = loadStateDict(m.toJSON().params as never);
      expect(loaded.config).toEqual(m.config);
      expect(runSequence(loaded, x)).toEqual(runSequence(m, x));
    }
  });

  it('reads rnn_relu when told, and head activation', () => {
    const m = RecurrentModel.create({ cell: 'rnn_relu', inputSize: 2, hiddenSize: 3, head: { outputSize: 1, activation: 'sigmoid' }, seed: 2 });
    const loaded = loadStateDict(m.toJSON().params as never, { nonlinearity: 'relu', headActivation: 'sigmoid' });
    expect(loaded.config).toEqual(m.config);
  });

  it('strips a module prefix and takes any one nn.Linear as the head', () => {
    const m = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 3, head: { outputSize: 2 }, seed: 4 });
    const p = m.toJSON().params;
    const dict: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) dict[k.startsWith('head.') ? k.replace('head.', 'fc.') : `encoder.lstm.${k}`] = v;
    const loaded = loadStateDict(dict as never);
    expect(runSequence(loaded, x)).toEqual(runSequence(m, x));
  });

  it('rejects bidirectional weights, two heads, odd gate counts and cell mismatches', () => {
    const m = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 3, seed: 4 });
    const p = m.toJSON().params;
    expect(codeOf(() => loadStateDict({ ...p, weight_ih_l0_reverse: p.weight_ih_l0 } as never))).toBe('SEQ_PARAM_UNKNOWN');
    expect(codeOf(() => loadStateDict({ ...p, 'a.weight': [[1, 2, 3]], 'a.bias': [1], 'b.weight': [[1, 2, 3]], 'b.bias': [1] } as never))).toBe('SEQ_PARAM_UNKNOWN');
    expect(codeOf(() => loadStateDict({ ...p, weight_ih_l0: nest(new Float32Array(12), [6, 2]) } as never))).toBe('SEQ_PARAM_SHAPE');
    expect(codeOf(() => loadStateDict(p as never, { cell: 'lstm' }))).toBe('SEQ_PARAM_SHAPE');
    expect(codeOf(() => loadStateDict({ weight_hh_l0: p.weight_hh_l0 } as never))).toBe('SEQ_PARAM_MISSING');
  });

  it('rejects a ragged weight matrix (rows of different lengths) with SEQ_PARAM_SHAPE', () => {
    const m = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 3, hiddenSize: 3, seed: 4 });
    const p = m.toJSON().params;
    // 9 numbers in all, so a flat count alone would take it as 3x3.
    const ragged = [[1, 2, 3], [4, 5], [6, 7, 8, 9]];
    expect(codeOf(() => loadStateDict({ ...p, weight_ih_l0: ragged } as never))).toBe('SEQ_PARAM_SHAPE');
    expect(codeOf(() => RecurrentModel.fromJSON({ ...m.toJSON(), params: { ...p, weight_hh_l0: [[1, 2, 3], [4, 5, 6], [7, [8], 9]] } } as never))).toBe('SEQ_PARAM_SHAPE');
  });

  it("accepts export_torch.py's own JSON, taking cell and head activation from its config", () => {
    const fx = JSON.parse(readFileSync(join(OWN_FIXTURES, 'lstm_head_sigmoid_forward.json'), 'utf8'));
    const model = loadStateDict(fx);
    expect(model.config).toMatchObject({ cell: 'lstm', head: { activation: 'sigmoid' } });
    expect(flat(runSequence(model, fx.x, { h0: fx.h0, c0: fx.c0 }).y)).toEqual(flat(runSequence(loadStateDict(fx.params, { headActivation: 'sigmoid' }), fx.x, { h0: fx.h0, c0: fx.c0 }).y));
    expect(codeOf(() => loadStateDict(fx, { headActivation: 'identity' }))).toBe('SEQ_MODEL_FORMAT');
    const relu = JSON.parse(readFileSync(join(OWN_FIXTURES, 'rnn_relu_l1_forward.json'), 'utf8'));
    expect(loadStateDict(relu).config.cell).toBe('rnn_relu');
  });
});

describe('safetensors', () => {
  it('round-trips a model through writeSafetensors/parseSafetensors', () => {
    const m = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 2, head: { outputSize: 1 }, seed: 8 });
    const bytes = writeSafetensors(Object.fromEntries(m.parameters().map((p) => [p.name, p])));
    const loaded = loadStateDict(parseSafetensors(bytes));
    expect(runSequence(loaded, x)).toEqual(runSequence(m, x));
  });

  it('keeps cell options and head activation in __metadata__ and reads them back', () => {
    const m = RecurrentModel.create({ cell: 'rnn_relu', inputSize: 2, hiddenSize: 3, head: { outputSize: 1, activation: 'sigmoid' }, seed: 8 });
    const tensors = Object.fromEntries(m.parameters().map((p) => [p.name, p]));
    const bytes = writeSafetensors(tensors, { format: 'pt', cell: 'rnn_relu', nonlinearity: 'relu', head_activation: 'sigmoid' });
    expect(safetensorsMetadata(bytes)).toEqual({ format: 'pt', cell: 'rnn_relu', nonlinearity: 'relu', head_activation: 'sigmoid' });
    const loaded = loadSafetensors(bytes);
    expect(loaded.config).toEqual(m.config);
    expect(runSequence(loaded, x)).toEqual(runSequence(m, x));
    expect(codeOf(() => loadSafetensors(bytes, { headActivation: 'identity' }))).toBe('SEQ_MODEL_FORMAT');
    expect(codeOf(() => loadSafetensors(writeSafetensors(tensors, { head_activation: 'tanh' })))).toBe('SEQ_MODEL_FORMAT');
    // Without metadata the options still decide, as before.
    expect(safetensorsMetadata(writeSafetensors(tensors))).toEqual({});
    expect(loadSafetensors(writeSafetensors(tensors), { nonlinearity: 'relu', headActivation: 'sigmoid' }).config).toEqual(m.config);
  });

  it('reads F64 tensors written by hand', () => {
    const header = JSON.stringify({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 16] }, __metadata__: { format: 'pt' } });
    const buf = new Uint8Array(8 + header.length + 16);
    const view = new DataView(buf.buffer);
    view.setBigUint64(0, BigInt(header.length), true);
    buf.set(new TextEncoder().encode(header), 8);
    view.setFloat64(8 + header.length, 0.25, true);
    view.setFloat64(8 + header.length + 8, -3, true);
    expect(Array.from(parseSafetensors(buf).w.data)).toEqual([0.25, -3]);
  });

  it('rejects truncated, non-JSON and inconsistent files with SEQ_SAFETENSORS', () => {
    const m = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, seed: 1 });
    const bytes = writeSafetensors(Object.fromEntries(m.parameters().map((p) => [p.name, p])));
    expect(codeOf(() => parseSafetensors(bytes.subarray(0, 4)))).toBe('SEQ_SAFETENSORS');
    expect(codeOf(() => parseSafetensors(bytes.subarray(0, bytes.length - 4)))).toBe('SEQ_SAFETENSORS');
    const garbage = new Uint8Array(20);
    new DataView(garbage.buffer).setBigUint64(0, 12n, true);
    expect(codeOf(() => parseSafetensors(garbage))).toBe('SEQ_SAFETENSORS');
  });
});
