import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CharTokenizer, Embedding } from '../../src/text/index.js';
import { loadStateDict, RecurrentModel, runSequence, type StateDict } from '../../src/cells/index.js';
import { codeOf as code } from '../support/errors.js';

describe('Embedding', () => {
  it('has nn.Embedding layout: row i is the vector of id i, the padding row zero', () => {
    const e = Embedding.create({ numEmbeddings: 5, embeddingDim: 3, paddingIdx: -1, seed: 3 });
    expect(e.paddingIdx).toBe(4);
    expect(e.weight).toHaveLength(15);
    expect(Array.from(e.lookup(4))).toEqual([0, 0, 0]);
    expect(Array.from(e.lookup(2))).toEqual(Array.from(e.weight.subarray(6, 9)));
    expect(e.parameters()[0]).toMatchObject({ name: 'weight', shape: [5, 3] });
    const out = new Float32Array(3);
    expect(e.lookup(1, out)).toBe(out);
    expect(e.forward([1, 2]).map((v) => Array.from(v))).toEqual([Array.from(e.lookup(1)), Array.from(e.lookup(2))]);
  });

  it('initialises N(0, 1) deterministically from a seed', () => {
    const a = Embedding.create({ numEmbeddings: 200, embeddingDim: 50, seed: 9 });
    const b = Embedding.create({ numEmbeddings: 200, embeddingDim: 50, seed: 9 });
    expect(a.weight).toEqual(b.weight);
    const n = a.weight.length;
    const mean = a.weight.reduce((s, v) => s + v, 0) / n;
    const variance = a.weight.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('round-trips through JSON and loads from a state dict entry', () => {
    const e = Embedding.create({ numEmbeddings: 4, embeddingDim: 2, paddingIdx: 0, seed: 1 });
    const copy = Embedding.fromJSON(JSON.parse(JSON.stringify(e)));
    expect(copy.weight).toEqual(e.weight);
    expect(copy.paddingIdx).toBe(0);
    const dict = { 'embedding.weight': e.toJSON().weight, 'gru.weight_ih_l0': [[1]] } as StateDict;
    const { embedding, rest } = Embedding.split(dict, { paddingIdx: 0 });
    expect(embedding.weight).toEqual(e.weight);
    expect(Object.keys(rest)).toEqual(['gru.weight_ih_l0']);
    expect(Embedding.fromStateDict({ weight: [[1, 2], [3, 4]] }).lookup(1)).toEqual(new Float32Array([3, 4]));
    expect(Embedding.fromStateDict({ 'emb.weight': { data: [1, 2, 3, 4, 5, 6], shape: [3, 2] } }, { name: 'emb.weight' }).lookup(2)).toEqual(new Float32Array([5, 6]));
  });

  it('rejects out-of-range and non-integer indices with SEQ_EMBEDDING_INDEX', () => {
    const e = Embedding.create({ numEmbeddings: 3, embeddingDim: 2, seed: 1 });
    for (const bad of [3, -1, 1.5, NaN, '1' as unknown as number]) expect(code(() => e.lookup(bad))).toBe('SEQ_EMBEDDING_INDEX');
    expect(code(() => e.forward([0, 7]))).toBe('SEQ_EMBEDDING_INDEX');
    expect(code(() => e.lookup(0, new Float32Array(3)))).toBe('SEQ_INPUT_SHAPE');
  });

  it('rejects bad options and documents with stable codes', () => {
    expect(code(() => Embedding.create({ numEmbeddings: 0, embeddingDim: 2 }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => Embedding.create({ numEmbeddings: 2, embeddingDim: 2, paddingIdx: 2 }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => Embedding.fromStateDict({}))).toBe('SEQ_PARAM_MISSING');
    expect(code(() => Embedding.fromWeight([[1, 2], [3]]))).toBe('SEQ_PARAM_SHAPE');
    expect(code(() => Embedding.fromWeight([1, 2]))).toBe('SEQ_PARAM_SHAPE');
    expect(code(() => Embedding.fromWeight([[1, NaN]]))).toBe('SEQ_PARAM_VALUE');
    expect(code(() => Embedding.fromJSON({ format: 'x' }))).toBe('SEQ_MODEL_FORMAT');
    expect(code(() => Embedding.fromJSON({ format: 'seqstream-embedding', version: 1, numEmbeddings: 3, embeddingDim: 1, paddingIdx: null, weight: [[1]] }))).toBe('SEQ_PARAM_SHAPE');
  });

  it('feeds a recurrent model: tokenizer -> embedding -> GRU', () => {
    const tok = CharTokenizer.fromText('abc', { padToken: '<pad>' });
    const emb = Embedding.create({ numEmbeddings: tok.vocabSize, embeddingDim: 4, paddingIdx: 0, seed: 1 });
    const gru = RecurrentModel.create({ cell: 'gru', inputSize: 4, hiddenSize: 8, seed: 1 });
    const state = gru.createState();
    let h: Float32Array = new Float32Array(8);
    for (const id of tok.encode('cab?')) h = gru.step(state, emb.lookup(id));
    expect(h.every(Number.isFinite)).toBe(true);
  });
});

const fixturePath = new URL('../fixtures/embedding_gru.json', import.meta.url);

describe.skipIf(!existsSync(fixturePath))('Embedding parity with PyTorch (tools/embedding_fixture.py)', () => {
  it('matches nn.Embedding -> nn.GRU -> nn.Linear outputs', () => {
    const fx = JSON.parse(readFileSync(fixturePath, 'utf8')) as {
      padding_idx: number;
      ids: number[];
      state_dict: StateDict;
      embedded: number[][];
      hidden: number[][];
      y: number[][];
    };
    const { embedding, rest } = Embedding.split(fx.state_dict, { paddingIdx: fx.padding_idx });
    const embedded = embedding.forward(fx.ids);
    embedded.forEach((row, t) => row.forEach((v, i) => expect(v).toBe(Math.fround(fx.embedded[t][i]))));
    const model = loadStateDict(rest);
    expect(model.config).toMatchObject({ cell: 'gru', inputSize: 5, hiddenSize: 6, head: { outputSize: 3 } });
    const result = runSequence(model, [embedded.map((r) => Array.from(r))], { engine: 'fused' });
    result.output[0].forEach((row, t) => row.forEach((v, i) => expect(Math.abs(v - fx.hidden[t][i])).toBeLessThan(1e-6)));
    result.y![0].forEach((row, t) => row.forEach((v, i) => expect(Math.abs(v - fx.y[t][i])).toBeLessThan(1e-6)));
  });
});
