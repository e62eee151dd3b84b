import { describe, expect, it } from 'vitest';
import { freshTop } from '../../src/kernels/internal/freshOutput.js';
import type { OrtTensor } from '../../src/kernels/onnxRuntime.js';

const t = (data: Float32Array): OrtTensor => ({ data, dims: [1, 2, data.length / 2], type: 'float32' }) as unknown as OrtTensor;

describe('freshTop: only a buffer nobody else holds is handed out', () => {
  const feed = new Float32Array(8);
  const fetch = new Float32Array(8);
  const feeds = { x: t(feed) };
  const fetches = { h: t(fetch) };
  it('takes a whole fresh buffer of the right size', () => {
    const fresh = new Float32Array(8);
    expect(freshTop(t(fresh), 8, feeds, fetches)).toBe(fresh);
  });
  it('refuses our own fetch or feed buffers, views into larger buffers, wrong sizes and missing outputs', () => {
    expect(freshTop(t(fetch), 8, feeds, fetches)).toBeNull();
    expect(freshTop(t(feed), 8, feeds, fetches)).toBeNull();
    const big = new Float32Array(16);
    expect(freshTop(t(big.subarray(0, 8)), 8, feeds, fetches)).toBeNull();
    expect(freshTop(t(big.subarray(8)), 8, feeds, fetches)).toBeNull();
    expect(freshTop(t(new Float32Array(6)), 8, feeds, fetches)).toBeNull();
    expect(freshTop(undefined, 8, feeds, fetches)).toBeNull();
    const shared = new Float32Array(new SharedArrayBuffer(32));
    expect(freshTop(t(shared), 8, feeds, fetches)).toBeNull();
  });
});
