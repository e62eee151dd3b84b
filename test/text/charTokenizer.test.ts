import { describe, expect, it } from 'vitest';
import { WordTokenizer, CharTokenizer } from '../../src/text/index.js';
import { codeOf as code } from '../support/errors.js';

describe('CharTokenizer', () => {
  it('rejects a non-boolean lowercase option with SEQ_INVALID_OPTION, like WordTokenizer', () => {
    expect(() => new CharTokenizer(['<unk>', 'a'], { lowercase: 'yes' as never })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => new WordTokenizer(['<unk>', 'a'], { lowercase: 1 as never })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });

  it('builds specials first, then characters by falling count, ties in first-seen order', () => {
    const tok = CharTokenizer.fromText('abbccc', { padToken: '<pad>' });
    expect(tok.vocabulary.tokens).toEqual(['<pad>', '<unk>', 'c', 'b', 'a']);
    expect(tok.padId).toBe(0);
    expect(tok.unknownId).toBe(1);
    expect(tok.vocabSize).toBe(5);
    const noPad = CharTokenizer.fromText('ba');
    expect(noPad.vocabulary.tokens).toEqual(['<unk>', 'b', 'a']);
  });

  it('encodes unknown characters to the unknown id and decodes back', () => {
    const tok = CharTokenizer.fromText('hello world');
    const ids = tok.encode('hold!');
    expect(ids[4]).toBe(tok.unknownId);
    expect(tok.decode(tok.encode('hello'))).toBe('hello');
    expect(tok.decode(ids)).toBe('hold<unk>');
    expect(tok.encode('')).toEqual([]);
  });

  it('treats a code point outside the BMP as one token', () => {
    const tok = CharTokenizer.fromText('a😀');
    expect(tok.encode('😀a')).toHaveLength(2);
    expect(tok.decode(tok.encode('😀a'))).toBe('😀a');
  });

  it('honours maxSize, minCount and lowercase', () => {
    const tok = CharTokenizer.fromText('aaabbc', { maxSize: 3 });
    expect(tok.vocabulary.tokens).toEqual(['<unk>', 'a', 'b']);
    expect(CharTokenizer.fromText('aaabbc', { minCount: 2 }).vocabulary.tokens).toEqual(['<unk>', 'a', 'b']);
    const lower = CharTokenizer.fromText('AbA', { lowercase: true });
    expect(lower.vocabulary.tokens).toEqual(['<unk>', 'a', 'b']);
    expect(lower.encode('B')).toEqual([2]);
  });

  it('loads a given vocabulary and round-trips through JSON', () => {
    const tok = new CharTokenizer(['<pad>', '<unk>', 'x', 'y'], { padToken: '<pad>' });
    expect(tok.encode('xyz')).toEqual([2, 3, 1]);
    const copy = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(copy.toJSON()).toEqual(tok.toJSON());
    expect(copy.encode('xyz')).toEqual([2, 3, 1]);
    expect(copy.decode([0, 2, 0, 3])).toBe('xy');
  });

  it('rejects bad input and bad documents with stable codes', () => {
    const tok = CharTokenizer.fromText('ab');
    expect(code(() => tok.encode(42 as unknown as string))).toBe('SEQ_INPUT_TYPE');
    expect(code(() => tok.decode([99]))).toBe('SEQ_TOKEN_RANGE');
    expect(code(() => tok.decode([1.5]))).toBe('SEQ_TOKEN_RANGE');
    expect(code(() => new CharTokenizer(['a', 'b']))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => new CharTokenizer(['<unk>', 'a', 'a']))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => CharTokenizer.fromText('ab', { maxSize: 1 }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => CharTokenizer.fromJSON({ format: 'nope' }))).toBe('SEQ_TOKENIZER_FORMAT');
    expect(code(() => CharTokenizer.fromJSON({ ...tok.toJSON(), version: 2 }))).toBe('SEQ_TOKENIZER_FORMAT');
    expect(code(() => CharTokenizer.fromJSON({ ...tok.toJSON(), kind: 'word' }))).toBe('SEQ_TOKENIZER_FORMAT');
    expect(code(() => CharTokenizer.fromJSON({ ...tok.toJSON(), vocab: ['a'] }))).toBe('SEQ_TOKENIZER_FORMAT');
  });
});
