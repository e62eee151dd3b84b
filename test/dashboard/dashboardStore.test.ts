import { describe, expect, it } from 'vitest';
import { DashboardStore } from '../../src/dashboard/dashboardStore.js';
import { StreamHistory } from '../../src/dashboard/streamHistory.js';

describe('StreamHistory', () => {
  it('keeps the newest `capacity` points in a ring reserved at full size', () => {
    const h = new StreamHistory('a', 40, 2);
    expect(h.bytes).toBe(40 * StreamHistory.bytesPerPoint(2));
    expect(StreamHistory.bytesPerPoint(2)).toBe(8 + 4 + 4 + 4 * 2 * 2);
    for (let i = 0; i < 100; i++) h.push(i, [i, -i, 99], [i + 0.5], i / 100, false, NaN);
    expect(h.bytes).toBe(40 * StreamHistory.bytesPerPoint(2));
    expect(h.count).toBe(100);
    expect(h.oldest).toBe(60);
    const all = h.since(0);
    expect(all.reset).toBe(true);
    expect(all.from).toBe(60);
    expect(all.t).toEqual(Array.from({ length: 40 }, (_, k) => 60 + k));
    expect(all.x.length).toBe(2); // the third input channel is beyond `channels`
    expect(all.x[1][0]).toBe(-60);
    expect(all.y).toEqual([Array.from({ length: 40 }, (_, k) => 60 + k + 0.5)]);
    const tail = h.since(98);
    expect(tail).toMatchObject({ from: 98, next: 100, reset: false, t: [98, 99] });
    expect(h.since(100).t).toEqual([]);
  });

  it('keeps order and marks NaN as null; counts alert runs on their rising edge', () => {
    const h = new StreamHistory('a', 1000, 1);
    const flags = [false, true, true, false, true];
    for (let i = 0; i < 20; i++) h.push(i, [i], null, i === 3 ? NaN : i, flags[i] ?? false, 0.5);
    const s = h.since(0);
    expect(s.t).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(s.score[3]).toBeNull();
    expect(s.y).toEqual([]);
    expect(s.threshold).toBe(0.5);
    expect(h.alerts).toBe(2);
  });

  it('keeps epoch timestamps exact (float64) and values as float32 across wrap-around', () => {
    const h = new StreamHistory('a', 48, 3);
    const t0 = 1_764_633_600_123.25;
    for (let i = 0; i < 130; i++) h.push(t0 + i * 0.5, [i, i + 1, i + 2, i + 3], [-i], i % 7 === 0 ? NaN : i / 3, i % 5 === 0, NaN);
    const s = h.since(0);
    expect(s.from).toBe(130 - 48);
    expect(s.t).toEqual(Array.from({ length: 48 }, (_, k) => t0 + (82 + k) * 0.5));
    expect(s.x.length).toBe(3);
    expect(s.x[2]).toEqual(Array.from({ length: 48 }, (_, k) => 82 + k + 2));
    expect(s.y[0][0]).toBe(-82);
    expect(s.score).toEqual(Array.from({ length: 48 }, (_, k) => ((82 + k) % 7 === 0 ? null : Math.fround((82 + k) / 3))));
    expect(s.alert).toEqual(Array.from({ length: 48 }, (_, k) => ((82 + k) % 5 === 0 ? 1 : 0)));
    expect(h.since(120, 4)).toMatchObject({ from: 126, next: 130, reset: true }); // points 120..125 are left out
  });
});

describe('DashboardStore', () => {
  it('stamps an event without a timestamp with its arrival time, read again for a later burst', async () => {
    const store = new DashboardStore();
    const before = Date.now();
    store.push({ key: 'a', x: [1] });
    store.push({ key: 'a', x: [2], timestamp: 5 });
    store.push({ key: 'a', x: [3], timestamp: Number.NaN });
    const after = Date.now();
    const first = store.history('a')!.since(0).t;
    expect(first[0]).toBeGreaterThanOrEqual(before);
    expect(first[0]).toBeLessThanOrEqual(after);
    expect(first[1]).toBe(5);
    expect(first[2]).toBe(first[0]); // NaN is no timestamp: the arrival time
    await new Promise((r) => setTimeout(r, 30));
    store.push({ key: 'a', x: [4] });
    const later = store.history('a')!.since(3).t[0];
    expect(later - first[0]).toBeGreaterThanOrEqual(20);
    expect(store.history('a')!.lastSeen).toBe(later);
  });

  it('bounds keys: the least recently seen key leaves first, counted as evicted', () => {
    const store = new DashboardStore({ maxKeys: 3 });
    for (const key of ['a', 'b', 'c', 'a', 'd']) store.push({ key, x: [1] });
    expect(store.size).toBe(3);
    expect(store.history('b')).toBeUndefined();
    expect(store.history('a')).toBeDefined();
    expect(store.snapshotCounters()).toMatchObject({ events: 5, keys: 3, evictedKeys: 1 });
  });

  it('refuses out-of-range options when built directly, naming the option', () => {
    for (const [name, value] of [['maxChannels', 65], ['maxChannels', 0], ['historyPoints', 1], ['maxKeys', 1.5], ['maxAlerts', -1], ['maxKeyLength', 'long']] as const) {
      expect(() => new DashboardStore({ [name]: value } as never)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION', message: expect.stringContaining(name) }));
    }
    expect(new DashboardStore({ maxChannels: 64, maxKeys: 1 }).maxChannels).toBe(64);
  });

  it('reuses an evicted key\'s ring for the next key without showing its points, even within one batch', () => {
    const store = new DashboardStore({ maxKeys: 2, historyPoints: 8, maxChannels: 1 });
    // One synchronous burst: every event is in the same pending batch.
    store.push({ key: 'a', x: [1], score: 9, alert: true, threshold: 3 });
    store.push({ key: 'b', x: [2] });
    store.push({ key: 'c', x: [3] }); // evicts a (b was not seen again either, but a is older)
    store.push({ key: 'a', x: [4] }); // evicts b; a comes back as a new key
    store.push({ key: 'c', x: [5] });
    expect(store.size).toBe(2);
    expect(store.history('b')).toBeUndefined();
    const a = store.history('a')!;
    expect(a.since(0).x).toEqual([[4]]);
    expect([a.count, a.alerts, a.alertActive, a.lastScore, a.threshold, a.lastValue]).toEqual([1, 0, false, NaN, NaN, 4]);
    expect(store.history('c')!.since(0).x).toEqual([[3, 5]]);
    expect(store.snapshotCounters()).toMatchObject({ events: 5, keys: 2, evictedKeys: 2, alerts: 1 });
    expect(store.bytes).toBe(2 * 8 * StreamHistory.bytesPerPoint(1));
  });

  it('refuses an event without a usable key with SEQ_DASHBOARD_EVENT and keeps going', () => {
    const store = new DashboardStore({ maxKeyLength: 8 });
    expect(store.push({ x: [1] } as never)?.code).toBe('SEQ_DASHBOARD_EVENT');
    expect(store.push({ key: 'x'.repeat(9) })?.code).toBe('SEQ_DASHBOARD_EVENT');
    expect(store.push(null as never)?.code).toBe('SEQ_DASHBOARD_EVENT');
    expect(store.push({ key: 7, x: 3 })).toBeNull();
    store.countError('SEQ_SENSOR_JSON');
    expect(store.snapshotCounters()).toMatchObject({ events: 1, rejected: 3, errors: { SEQ_DASHBOARD_EVENT: 3, SEQ_SENSOR_JSON: 1 } });
    expect(store.history('7')?.lastValue).toBe(3);
  });

  it('sorts rows server-side (no score last), filters and slices a window', () => {
    const store = new DashboardStore();
    store.push({ key: 'low', x: [1], score: 0.1 });
    store.push({ key: 'none', x: [2] });
    store.push({ key: 'high', x: [3], score: 5, alert: true });
    store.push({ key: 'mid', y: [4], score: 1 });
    expect(store.rows('score', true, 0, 10, '').rows.map((r) => r[0])).toEqual(['high', 'mid', 'low', 'none']);
    expect(store.rows('score', false, 0, 10, '', Date.now() + 1000).rows.map((r) => r[0])).toEqual(['low', 'mid', 'high', 'none']);
    expect(store.rows('key', false, 1, 2, '').rows.map((r) => r[0])).toEqual(['low', 'mid']);
    const filtered = store.rows('score', true, 0, 10, 'I');
    expect(filtered.total).toBe(2);
    expect(filtered.rows[0]).toEqual(['high', 3, 5, 0, expect.any(Number), 1, 1, 1]);
    expect(filtered.rows[1][1]).toBe(4); // no input: the first output is the value
  });

  it('keeps the newest maxAlerts alerts, one per alert run', () => {
    const store = new DashboardStore({ maxAlerts: 2 });
    for (const [key, alert] of [['a', true], ['a', true], ['b', true], ['a', false], ['a', true]] as const) store.push({ key, score: 1, alert, timestamp: 5 });
    const { alerts, next } = store.alertsSince(0);
    expect(alerts.map((a) => [a.seq, a.key])).toEqual([[1, 'b'], [2, 'a']]);
    expect(next).toBe(3);
    expect(store.alertsSince(3).alerts).toEqual([]);
    expect(store.snapshotCounters().alerts).toBe(3);
  });

  it('holds at most maxKeys x historyPoints points however many keys and events come', () => {
    const store = new DashboardStore({ maxKeys: 1000, historyPoints: 32, maxChannels: 2 });
    const bound = 1000 * 32 * (16 + 8 * 2);
    for (let round = 0; round < 10; round++) for (let k = 0; k < 3000; k++) store.push({ key: `k${(k + round * 1000) % 3000}`, x: [k, k], y: [k, k, k], score: k });
    expect(store.size).toBe(1000);
    expect(store.bytes).toBeLessThanOrEqual(bound);
    for (let round = 0; round < 40; round++) for (let k = 0; k < 1000; k++) store.push({ key: `k${k}`, x: [k, k], score: k });
    expect(store.size).toBe(1000);
    expect(store.bytes).toBe(bound); // every ring full, none larger
    const c = store.snapshotCounters();
    expect(c.events).toBe(70_000);
    expect(c.evictedKeys).toBeGreaterThan(0);
  });
});
