import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/adapters/internal/lineSplitter.js';
import { seededRandom } from '../../../src/cells/random.js';

type Item = ['line', string, number, number] | ['overlong', number, number, number];

function split(chunks: Buffer[], max: number): Item[] {
  const out: Item[] = [];
  const s = new LineSplitter(max, {
    line: (text, line, offset) => out.push(['line', text, line, offset]),
    overlong: (line, offset, length) => out.push(['overlong', line, offset, length]),
  });
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

describe('LineSplitter', () => {
  it('gives the same lines, numbers and offsets however the bytes are chunked', () => {
    const text = Buffer.from('\ufeffa,1\r\nbé,2\n\n' + 'x'.repeat(30) + '\nlast,3\r\n' + 'y'.repeat(10) + '\r\nno newline');
    const whole = split([text], 10);
    expect(whole).toEqual([
      ['line', 'a,1', 1, 3],
      ['line', 'bé,2', 2, 8],
      ['line', '', 3, 14],
      ['overlong', 4, 15, 30],
      ['line', 'last,3', 5, 46],
      ['line', 'y'.repeat(10), 6, 54],
      ['line', 'no newline', 7, 66],
    ]);
    const random = seededRandom(42);
    for (let trial = 0; trial < 200; trial++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length; ) {
        const n = 1 + Math.floor(random() * 8);
        chunks.push(text.subarray(i, i + n));
        i += n;
      }
      expect(split(chunks, 10)).toEqual(whole);
    }
  });

  it('accepts a line of exactly maxLineLength bytes, rejects one byte more', () => {
    expect(split([Buffer.from('12345\n123456\n')], 5)).toEqual([
      ['line', '12345', 1, 0],
      ['overlong', 2, 6, 6],
    ]);
  });
});
