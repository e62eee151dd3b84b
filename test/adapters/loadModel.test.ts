import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecurrentModel, runSequence, writeSafetensors } from '../../src/cells/index.js';
import { loadModel } from '../../src/adapters/loadModel.js';
import { OWN_FIXTURES } from '../support/fixtures.js';
import { codeOf } from '../support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-model-file-'));
const x = [[[0.5, -1, 0.25]]];

describe('loadModel', () => {
  it('reads seqstream JSON, a prefixed PyTorch state dict as JSON, and an export fixture', () => {
    const m = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 4, head: { outputSize: 2, activation: 'sigmoid' }, seed: 3 });
    writeFileSync(join(dir, 'seq.json'), JSON.stringify(m));
    expect(runSequence(loadModel(join(dir, 'seq.json')), x)).toEqual(runSequence(m, x));
    const dict = Object.fromEntries(Object.entries(m.toJSON().params).map(([k, v]) => [k.startsWith('head.') ? k : `rnn.${k}`, v]));
    writeFileSync(join(dir, 'dict.json'), JSON.stringify(dict));
    expect(runSequence(loadModel(join(dir, 'dict.json'), { headActivation: 'sigmoid' }), x)).toEqual(runSequence(m, x));
    const fixture = join(OWN_FIXTURES, 'lstm_head_sigmoid_forward.json');
    const fx = JSON.parse(readFileSync(fixture, 'utf8'));
    expect(loadModel(fixture).config).toMatchObject({ cell: 'lstm', head: { activation: 'sigmoid' }, inputSize: fx.config.input_size });
  });

  it('reads the head activation and RNN nonlinearity from a .safetensors file\'s __metadata__', () => {
    const m = RecurrentModel.create({ cell: 'rnn_relu', inputSize: 3, hiddenSize: 4, head: { outputSize: 2, activation: 'sigmoid' }, seed: 5 });
    const tensors = Object.fromEntries(m.parameters().map((p) => [p.name, p]));
    writeFileSync(join(dir, 'meta.safetensors'), writeSafetensors(tensors, { cell: 'rnn_relu', nonlinearity: 'relu', head_activation: 'sigmoid' }));
    const loaded = loadModel(join(dir, 'meta.safetensors'));
    expect(loaded.config).toEqual(m.config);
    expect(runSequence(loaded, x)).toEqual(runSequence(m, x));
    expect(codeOf(() => loadModel(join(dir, 'meta.safetensors'), { headActivation: 'softmax' }))).toBe('SEQ_MODEL_FORMAT');
  });

  it('rejects missing, non-JSON and non-object files with SEQ_MODEL_FORMAT', () => {
    writeFileSync(join(dir, 'garbage.json'), 'not json');
    writeFileSync(join(dir, 'array.json'), '[1]');
    expect(codeOf(() => loadModel(join(dir, 'missing.json')))).toBe('SEQ_MODEL_FORMAT');
    expect(codeOf(() => loadModel(join(dir, 'garbage.json')))).toBe('SEQ_MODEL_FORMAT');
    expect(codeOf(() => loadModel(join(dir, 'array.json')))).toBe('SEQ_MODEL_FORMAT');
  });
});
