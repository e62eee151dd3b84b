import { describe, expect, it } from 'vitest';
import { Vocabulary } from '../../src/text/index.js';
import { SeqstreamError } from '../../src/errors.js';

describe('Vocabulary', () => {
  it('builds deterministically: specials, then by falling count, ties in first-seen order', () => {
    const v = Vocabulary.build(['b', 'a', 'b', 'c'], { padToken: '<pad>' });
    expect(v.tokens).toEqual(['<pad>', '<unk>', 'b', 'a', 'c']);
    expect([v.padId, v.unknownId, v.size]).toEqual([0, 1, 5]);
    expect(v.id('b')).toBe(2);
    expect(v.id('zz')).toBe(1);
    expect(v.has('zz')).toBe(false);
    expect(v.token(3)).toBe('a');
  });

  it('does not count the special tokens twice when they appear in the text', () => {
    expect(Vocabulary.build(['<unk>', 'x']).tokens).toEqual(['<unk>', 'x']);
  });

  it('throws SEQ_TOKEN_RANGE for an id outside the table', () => {
    const v = new Vocabulary(['<unk>', 'a']);
    let code: string | undefined;
    try {
      v.token(2);
    } catch (e) {
      code = (e as SeqstreamError).code;
    }
    expect(code).toBe('SEQ_TOKEN_RANGE');
  });
});
