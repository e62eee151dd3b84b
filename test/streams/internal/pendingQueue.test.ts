import { describe, expect, it } from 'vitest';
import { PendingQueue } from '../../../src/streams/internal/pendingQueue.js';

function push(q: PendingQueue, row: number, value: number, offset?: number): void {
  const p = q.reserve();
  q.x.fill(value, p * 2, p * 2 + 2);
  q.commit(row, false, offset);
}

describe('PendingQueue', () => {
  it('one sub-batch when every row appears once; the queue itself is the input', () => {
    const q = new PendingQueue(2, 4);
    [5, 1, 7].forEach((row, i) => push(q, row, i));
    const calls: Array<[number[], number[]]> = [];
    q.forEachSubBatch(3, 8, (n, idx, x) => calls.push([Array.from(idx.subarray(0, n)), Array.from(x)]));
    expect(calls).toEqual([[[0, 1, 2], [0, 0, 1, 1, 2, 2]]]);
  });

  it('a row queued several times steps in successive sub-batches, in its order', () => {
    const q = new PendingQueue(2, 8);
    [3, 3, 4, 3, 4, 9].forEach((row, i) => push(q, row, i));
    const calls: number[][] = [];
    q.forEachSubBatch(6, 10, (n, idx, x) => {
      calls.push(Array.from(idx.subarray(0, n)));
      for (let j = 0; j < n; j++) expect(x[2 * j]).toBe(idx[j]); // inputs gathered with their events
    });
    expect(calls).toEqual([[0, 2, 5], [1, 4], [3]]);
  });

  it('grows past maxBatch while emitting and drops what has stepped, keeping the rest in order', () => {
    const q = new PendingQueue(2, 2);
    for (let i = 0; i < 5; i++) push(q, i, i, i === 3 ? undefined : 100 + i);
    expect(q.length).toBe(5);
    q.drop(2);
    expect(q.length).toBe(3);
    expect(Array.from(q.row.subarray(0, 3))).toEqual([2, 3, 4]);
    expect(Array.from(q.x.subarray(0, 6))).toEqual([2, 2, 3, 3, 4, 4]);
    expect(Array.from(q.offset.subarray(0, 3))).toEqual([102, Number.NaN, 104]);
  });
});
