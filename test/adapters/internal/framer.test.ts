import { describe, expect, it } from 'vitest';
import { Framer } from '../../../src/adapters/internal/framer.js';

function frames(total: number, N: number, hop: number, chunk: number): number[][] {
  const f = new Framer(N, hop);
  const out: number[][] = [];
  const emit = (x: Float32Array, k: number) => { expect(k).toBe(out.length); out.push(Array.from(x)); };
  const all = Float32Array.from({ length: total }, (_, i) => i + 1);
  for (let p = 0; p < total; p += chunk) f.push(all.subarray(p, p + chunk), emit);
  f.flush(emit);
  return out;
}

describe('Framer', () => {
  it('emits frames every hop, the last partial one zero-padded', () => {
    expect(frames(10, 4, 2, 3)).toEqual([[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8], [7, 8, 9, 10]]);
    expect(frames(11, 4, 2, 1)).toEqual([[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8], [7, 8, 9, 10], [9, 10, 11, 0]]);
    expect(frames(9, 4, 4, 5)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 0, 0, 0]]);
    expect(frames(3, 4, 4, 2)).toEqual([[1, 2, 3, 0]]);
    expect(frames(0, 4, 4, 2)).toEqual([]);
  });

  it('skips samples between frames when hop > bufferSize', () => {
    expect(frames(13, 2, 5, 1)).toEqual([[1, 2], [6, 7], [11, 12]]);
    expect(frames(14, 2, 5, 4)).toEqual([[1, 2], [6, 7], [11, 12]]);
    expect(frames(16, 2, 5, 7)).toEqual([[1, 2], [6, 7], [11, 12], [16, 0]]);
  });
});
