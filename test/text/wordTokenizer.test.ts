import { describe, expect, it } from 'vitest';
import { WordTokenizer } from '../../src/text/index.js';
import { codeOf as code } from '../support/errors.js';

describe('WordTokenizer', () => {
  it('splits words, contractions and punctuation, lower-cased by default', () => {
    const tok = WordTokenizer.fromText('x');
    expect(tok.tokenize("The cat didn't sit, it ran!  Ça va?")).toEqual(['the', 'cat', "didn't", 'sit', ',', 'it', 'ran', '!', 'ça', 'va', '?']);
    expect(tok.tokenize('')).toEqual([]);
    expect(tok.tokenize('   ')).toEqual([]);
  });

  it('builds a frequency-ordered vocabulary and maps unknown words to the unknown id', () => {
    const tok = WordTokenizer.fromText('the cat sat on the mat. the end', { padToken: '<pad>' });
    expect(tok.vocabulary.tokens.slice(0, 3)).toEqual(['<pad>', '<unk>', 'the']);
    const ids = tok.encode('The dog sat');
    expect(ids).toEqual([2, tok.unknownId, tok.vocabulary.id('sat')]);
    expect(tok.decode(ids)).toBe('the <unk> sat');
    expect(tok.decode([0, 2, 0])).toBe('the');
  });

  it('bounds the vocabulary with maxSize and minCount', () => {
    const text = 'a a a b b c d';
    expect(WordTokenizer.fromText(text, { maxSize: 3 }).vocabulary.tokens).toEqual(['<unk>', 'a', 'b']);
    expect(WordTokenizer.fromText(text, { minCount: 2 }).vocabulary.tokens).toEqual(['<unk>', 'a', 'b']);
  });

  it('keeps case when asked and round-trips through JSON', () => {
    const tok = WordTokenizer.fromText('Bob met bob', { lowercase: false, unknownToken: '[UNK]' });
    expect(tok.encode('Bob bob BOB')).toEqual([tok.vocabulary.id('Bob'), tok.vocabulary.id('bob'), tok.unknownId]);
    const copy = WordTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(copy.lowercase).toBe(false);
    expect(copy.toJSON()).toEqual(tok.toJSON());
    expect(copy.encode('Bob bob BOB')).toEqual(tok.encode('Bob bob BOB'));
  });

  it('loads a given vocabulary', () => {
    const tok = new WordTokenizer(['[PAD]', '[UNK]', 'hello', 'world'], { unknownToken: '[UNK]', padToken: '[PAD]' });
    expect(tok.encode('Hello, world')).toEqual([2, 1, 3]);
  });

  it('rejects bad input and bad documents with stable codes', () => {
    const tok = WordTokenizer.fromText('a b');
    expect(code(() => tok.encode(null as unknown as string))).toBe('SEQ_INPUT_TYPE');
    expect(code(() => tok.decode([-1]))).toBe('SEQ_TOKEN_RANGE');
    expect(code(() => new WordTokenizer(['a'], { unknownToken: '' }))).toBe('SEQ_INVALID_OPTION');
    expect(code(() => WordTokenizer.fromJSON(CharTokenizerJSON()))).toBe('SEQ_TOKENIZER_FORMAT');
    expect(code(() => WordTokenizer.fromJSON(null))).toBe('SEQ_TOKENIZER_FORMAT');
  });
});

function CharTokenizerJSON() {
  return { format: 'seqstream-tokenizer', version: 1, kind: 'char', vocab: ['<unk>'], unknownToken: '<unk>', padToken: null, lowercase: false };
}
