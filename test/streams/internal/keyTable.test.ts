import { describe, expect, it } from 'vitest';
import { KeyTable, type Eviction } from '../../../src/streams/internal/keyTable.js';
import { StateRows } from '../../../src/streams/internal/stateRows.js';

const H = 2;

function table(maxKeys = 8, idleTtlMs = Infinity, clock = () => 0): { t: KeyTable<string>; rows: StateRows; evicted: Eviction<string>[] } {
  const rows = new StateRows(1, H, false, 4);
  const evicted: Eviction<string>[] = [];
  const t = new KeyTable<string>(rows, { maxKeys, idleTtlMs, clock, cell: 'gru', onEvict: (e) => evicted.push(e) });
  return { t, rows, evicted };
}

/** Puts `v` into key row `row` through the batch area, as a step would. */
function setRow(rows: StateRows, row: number, v: number): void {
  rows.batchState(1).h[0].fill(v);
  rows.scatter(row, 0);
}

describe('KeyTable', () => {
  it('hands out the lowest free row, keeps LRU order and evicts the least recently used key without queued events', () => {
    const { t, evicted } = table(3);
    const a = t.insert('a');
    const b = t.insert('b');
    t.insert('c');
    expect([a, b]).toEqual([0, 1]);
    t.touch(a);
    expect(t.keys()).toEqual(['b', 'c', 'a']);
    t.queued(b); // b has work: c goes instead
    t.insert('d');
    expect(evicted.map((e) => `${e.key}:${e.reason}`)).toEqual(['c:lru']);
    expect(t.keys()).toEqual(['b', 'a', 'd']);
  });

  it('defers a delete until the last queued event has stepped; the key is gone at once and its row is not reused meanwhile', () => {
    const { t, rows, evicted } = table();
    const a = t.insert('a');
    t.queued(a);
    t.queued(a);
    expect(t.delete('a')).toBe(true);
    expect(t.has('a')).toBe(false);
    expect(t.size).toBe(0);
    expect(t.keys()).toEqual([]);
    const c = t.insert('c');
    expect(c).not.toBe(a);
    expect(t.keyOf(a)).toBe('a'); // still steps for 'a'
    setRow(rows, a, 0.5);
    t.stepped(a, 10);
    t.releaseDeleted();
    expect(evicted).toEqual([]);
    setRow(rows, a, 0.75);
    t.stepped(a, 11);
    t.releaseDeleted();
    expect(evicted.map((e) => [e.key, e.reason, e.offset, e.snapshot.h[0]])).toEqual([['a', 'deleted', 11, [0.75, 0.75]]]);
    expect(t.evicted).toEqual({ lru: 0, idle: 0, deleted: 1 });
    expect(t.insert('d')).toBe(a); // now free again
  });

  it('a deleted key sent again gets a fresh row of its own while the old one finishes', () => {
    const { t, rows } = table();
    const old = t.insert('a');
    setRow(rows, old, 3);
    t.queued(old);
    t.delete('a');
    const fresh = t.insert('a');
    expect(fresh).not.toBe(old);
    expect(t.rowOf('a')).toBe(fresh);
    expect(rows.snapshot(fresh, 'gru').h[0]).toEqual([0, 0]);
    t.stepped(old, Number.NaN);
    t.releaseDeleted();
    expect(t.rowOf('a')).toBe(fresh); // freeing the old row leaves the new key alone
    expect(t.keys()).toEqual(['a']);
  });

  it('a waiting reset applies to the next queued event, or zeroes the row once the queue drains', () => {
    const { t, rows } = table();
    const a = t.insert('a');
    setRow(rows, a, 2);
    t.queued(a);
    t.reset('a');
    expect(rows.snapshot(a, 'gru').h[0]).toEqual([2, 2]);
    t.stepped(a, 0);
    expect(rows.snapshot(a, 'gru').h[0]).toEqual([0, 0]);
    setRow(rows, a, 2);
    t.queued(a);
    t.reset('a');
    expect(t.queued(a)).toBe(true);
    expect(t.queued(a)).toBe(false);
  });

  it('sweeps idle keys oldest first and stops at a key with queued events', () => {
    let now = 0;
    const { t, evicted } = table(8, 100, () => now);
    t.touch(t.insert('a'));
    const b = t.insert('b');
    t.touch(b);
    t.touch(t.insert('c'));
    t.queued(b);
    now = 500;
    t.evictIdle();
    expect(evicted.map((e) => e.key)).toEqual(['a']);
    t.stepped(b, 1);
    t.evictIdle();
    expect(evicted.map((e) => e.key)).toEqual(['a', 'b', 'c']);
  });
});
