import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecurrentModel, runSequence } from '../../src/cells/index.js';
import { loadModelFile } from '../../src/cli/loadModelFile.js';
import { OWN_FIXTURES } from '../support/fixtures.js';
import { codeOf } from '../support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-model-file-'));
const x = [[[0.5, -1, 0.25]]];

describe('loadModelFile', () => {
  it('reads seqstream JSON, a prefixed PyTorch state dict as JSON, and an export fixture', () => {
    const m = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 4, head: { outputSize: 2, activation: 'sigmoid' }, seed: 3 });
    writeFileSync(join(dir, 'seq.json'), JSON.stringify(m));
    expect(runSequence(loadModelFile(join(dir, 'seq.json')), x)).toEqual(runSequence(m, x));
    const dict = Object.fromEntries(Object.entries(m.toJSON().params).map(([k, v]) => [k.startsWith('head.') ? k : `rnn.${k}`, v]));
    writeFileSync(join(dir, 'dict.json'), JSON.stringify(dict));
    expect(runSequence(loadModelFile(join(dir, 'dict.json'), { headActivation: 'sigmoid' }), x)).toEqual(runSequence(m, x));
    const fixture = join(OWN_FIXTURES, 'lstm_head_sigmoid_forward.json');
    const fx = JSON.parse(readFileSync(fixture, 'utf8'));
    expect(loadModelFile(fixture).config).toMatchObject({ cell: 'lstm', head: { activation: 'sigmoid' }, inputSize: fx.config.input_size });
  });

  it('rejects missing, non-JSON and non-object files with SEQ_MODEL_FORMAT', () => {
    writeFileSync(join(dir, 'garbage.json'), 'not json');
    writeFileSync(join(dir, 'array.json'), '[1]');
    expect(codeOf(() => loadModelFile(join(dir, 'missing.json')))).toBe('SEQ_MODEL_FORMAT');
    expect(codeOf(() => loadModelFile(join(dir, 'garbage.json')))).toBe('SEQ_MODEL_FORMAT');
    expect(codeOf(() => loadModelFile(join(dir, 'array.json')))).toBe('SEQ_MODEL_FORMAT');
  });
});
