import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionOf } from '../../src/cluster/partitionOf.js';

describe('partitionOf', () => {
  it('is FNV-1a 32 (published test vectors) mod P', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(partitionOf('foobar', 7)).toBe(0xbf9cf968 % 7);
  });
  it('hashes UTF-8 bytes, and a number key as its string', () => {
    expect(fnv1a32('é')).not.toBe(fnv1a32('e'));
    expect(partitionOf(42, 5)).toBe(partitionOf('42', 5));
  });
  it('refuses a partition count that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, NaN]) expect(() => partitionOf('k', bad)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
