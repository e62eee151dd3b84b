import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/cells/random.js';
import { AnomalyDetector } from '../../src/detection/anomalyDetector.js';
import { ContextMemory, type ContextMemoryOptions } from '../../src/detection/contextMemory.js';
import { ReferenceContextMemory } from './contextReference.js';
import { sineSeries } from './series.js';

/** A pattern of levels repeated over and over, with a little noise that never changes the level. */
function repeating(n: number, pattern: number[]): number[] {
  const rnd = seededRandom(7);
  return Array.from({ length: n }, (_, i) => pattern[i % pattern.length] + 0.01 * rnd());
}

describe('ContextMemory', () => {
  it('learns a repeating sequence and scores a level sequence it never saw above anything after learning', () => {
    const memory = new ContextMemory({ rest: 5 });
    const series = repeating(600, [0.05, 0.3, 0.55, 0.8, 0.55, 0.3]);
    const scores = series.map((u) => memory.score(u));
    const late = Math.max(...scores.slice(300));
    expect(late).toBeLessThan(0.3);
    // 0.05 -> 0.8 is a jump the pattern never makes.
    const novel = memory.score(0.8);
    expect(novel).toBeGreaterThan(0.5);
    expect(novel).toBeGreaterThan(late);
    for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
  });

  it('gives the same scores for the same input, and its first `rest` readings score 0', () => {
    const series = sineSeries(400, 3).map((r) => (r.x - 6) / 8);
    const first = new ContextMemory({ rest: 20 });
    const second = new ContextMemory({ rest: 20 });
    const s1 = series.map((u) => first.score(u));
    const s2 = series.map((u) => second.score(u));
    expect(s2).toEqual(s1);
    expect(s1.slice(0, 20).every((s) => s === 0)).toBe(true);
    expect(s1.slice(20).some((s) => s > 0)).toBe(true);
  });

  it('keeps at most maxContexts contexts and still scores once full', () => {
    const rnd = seededRandom(11);
    const memory = new ContextMemory({ rest: 0, maxContexts: 50 });
    const scores = Array.from({ length: 2000 }, () => memory.score(rnd()));
    expect(memory.size).toBe(50);
    const json = memory.toJSON();
    expect(json.contexts).toBe(50);
    expect(json.semis).toBeLessThanOrEqual(50);
    // Random levels stay unpredictable: the scores after it filled up are mostly high.
    const after = scores.slice(1000);
    expect(after.reduce((a, b) => a + b, 0) / after.length).toBeGreaterThan(0.5);
  });

  it('continues exactly from a JSON snapshot, before and after the memory is full', () => {
    const rnd = seededRandom(5);
    const series = Array.from({ length: 1500 }, (_, i) => (i % 40 < 20 ? 0.2 : 0.7) + 0.3 * rnd() * (i % 7 === 0 ? 1 : 0));
    const options = { rest: 10, maxContexts: 300 };
    const whole = new ContextMemory(options);
    const full = series.map((u) => whole.score(u));
    for (const at of [1, 2, 37, 400, 1200]) {
      const first = new ContextMemory(options);
      series.slice(0, at).forEach((u) => first.score(u));
      if (at === 37) expect(first.size).toBeLessThan(300);
      if (at >= 400) expect(first.size).toBe(300);
      const resumed = new ContextMemory(options, JSON.parse(JSON.stringify(first.toJSON())));
      expect(series.slice(at).map((u) => resumed.score(u)), `snapshot after ${at} readings`).toEqual(full.slice(at));
    }
  });

  it('rejects a malformed state or one larger than maxContexts with SEQ_STATE_FORMAT, bad options with SEQ_INVALID_OPTION', () => {
    const memory = new ContextMemory({ rest: 0 });
    repeating(200, [0.1, 0.9, 0.5]).forEach((u) => memory.score(u));
    const json = memory.toJSON();
    expect(() => new ContextMemory({ maxContexts: 2 }, json)).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    expect(() => new ContextMemory({}, { ...json, ctxLeft: json.ctxLeft.map(() => 10_000) })).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    expect(() => new ContextMemory({}, { ...json, facts: [] })).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    expect(() => new ContextMemory({ bits: 5 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => new ContextMemory({ maxContexts: 0 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});

describe('AnomalyDetector with the contextual member', () => {
  const rows = (n: number) => repeating(n, [10, 40, 70, 100, 70, 40]).map((x, t) => ({ x, timestamp: Date.UTC(2024, 0, 1) + t * 300_000 }));

  it('scores a break of a learnt sequence through the contextual member, on by default (1024 contexts), and not with maxContexts 0', () => {
    const series = rows(800);
    // 100 -> 10: both levels are familiar, the step between them is not (the pattern goes 100 -> 70).
    expect(series[699].x).toBeGreaterThan(100);
    series[700] = { ...series[700], x: 10 };
    const on = new AnomalyDetector({ range: { min: 0, max: 110 }, learningPeriod: 300 });
    expect(on.options.maxContexts).toBe(1024);
    const off = new AnomalyDetector({ range: { min: 0, max: 110 }, learningPeriod: 300, maxContexts: 0 });
    const withContext = series.map((r) => on.update(r.x, r.timestamp));
    const without = series.map((r) => off.update(r.x, r.timestamp));
    expect(without.every((d) => d.contextScore === 0)).toBe(true);
    expect(withContext.slice(0, 300).every((d) => d.contextScore === 0 && d.score === 0)).toBe(true);
    const at = withContext[700];
    expect(at.contextScore).toBeGreaterThan(0.5);
    expect(at.score).toBeGreaterThan(without[700].score);
    expect(at.score).toBeGreaterThan(Math.max(...withContext.slice(300, 700).map((d) => d.score)));
    for (const d of withContext) expect(d.score >= 0 && d.score < 1).toBe(true);
  });

  it('never looks ahead, and a snapshot from before the member existed starts it empty', () => {
    const series = rows(500);
    const o = { range: { min: 0, max: 110 }, learningPeriod: 100, maxContexts: 1024 };
    const d1 = new AnomalyDetector(o);
    const full = series.map((r) => d1.update(r.x, r.timestamp).score);
    const changed = series.map((r, i) => (i >= 300 ? { ...r, x: 110 - r.x } : r));
    const d2 = new AnomalyDetector(o);
    const other = changed.map((r) => d2.update(r.x, r.timestamp).score);
    expect(other.slice(0, 300)).toEqual(full.slice(0, 300));
    expect(other.slice(300)).not.toEqual(full.slice(300));

    const first = new AnomalyDetector(o);
    series.slice(0, 200).forEach((r) => first.update(r.x, r.timestamp));
    expect(first.toJSON().context?.contexts).toBeGreaterThan(0);
    const legacy = { ...first.toJSON() };
    delete legacy.context;
    const resumed = new AnomalyDetector(o, legacy);
    const fresh = new ContextMemory({ rest: 20 }); // contextRest defaults to learningPeriod / 5
    series.slice(200).forEach((r) => {
      resumed.update(r.x, r.timestamp);
      fresh.score(r.x / 110);
    });
    expect(resumed.toJSON().context).toEqual(fresh.toJSON());
  });

  it('continues exactly from a detector snapshot with the member on, and rejects a snapshot of a larger memory', () => {
    const series = rows(400);
    const o = { range: { min: 0, max: 110 }, learningPeriod: 50, maxContexts: 64 };
    const whole = new AnomalyDetector(o);
    const full = series.map((r) => whole.update(r.x, r.timestamp).score);
    for (const at of [3, 120, 333]) {
      const first = new AnomalyDetector(o);
      series.slice(0, at).forEach((r) => first.update(r.x, r.timestamp));
      const json = JSON.parse(JSON.stringify(first.toJSON()));
      const resumed = new AnomalyDetector(o, json);
      expect(series.slice(at).map((r) => resumed.update(r.x, r.timestamp).score), `snapshot after ${at} readings`).toEqual(full.slice(at));
      if (at === 333) expect(() => new AnomalyDetector({ ...o, maxContexts: 8 }, json)).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    }
  });
});

describe('ContextMemory against a plain reference implementation', () => {
  const rnd = seededRandom(21);
  const cases: [string, ContextMemoryOptions, (i: number) => number][] = [
    ['random readings, small memory that fills', { rest: 0, maxContexts: 120 }, () => rnd()],
    ['random readings, defaults', {}, () => rnd()],
    ['a noisy repeating pattern', { rest: 5, maxContexts: 400 }, (i) => [0.05, 0.3, 0.55, 0.8, 0.55, 0.3][i % 6] + 0.2 * (rnd() < 0.05 ? rnd() : 0)],
    ['2 bits, short halves, few carried', { bits: 2, maxLeft: 2, maxActive: 3, rest: 3, maxContexts: 90 }, (i) => ((i % 9) / 9 + 0.1 * rnd()) % 1],
    ['a slow sine with drops and NaN', { bits: 4, maxActive: 30, rest: 10, maxContexts: 600 }, (i) => (i % 97 === 0 ? NaN : 0.5 + 0.45 * Math.sin(i / 15) + 0.05 * rnd())],
  ];
  for (const [name, options, reading] of cases) {
    it(`gives the same scores and state: ${name}, also after a restore from JSON`, () => {
      const series = Array.from({ length: 1500 }, (_, i) => reading(i));
      const reference = new ReferenceContextMemory(options);
      let memory = new ContextMemory(options);
      series.forEach((u, i) => {
        expect(memory.score(u), `reading ${i}`).toBe(reference.score(u));
        if (i % 250 === 249) {
          const json = memory.toJSON();
          expect(json, `state after ${i + 1} readings`).toEqual(reference.toJSON());
          memory = new ContextMemory(options, JSON.parse(JSON.stringify(json)));
        }
      });
      expect(memory.toJSON()).toEqual(reference.toJSON());
    });
  }
});
