import { describe, expect, it } from 'vitest';
import { AnomalyDetector, LevelNovelty } from '../../src/detection/index.js';
import { seededRandom } from '../../src/cells/random.js';

/** A noisy square wave between levels 2 and 8 (range 0..10), then `heldAt` from row `from` on. */
function squareWave(n: number, from: number, heldAt: number): { x: number; timestamp: number }[] {
  const rnd = seededRandom(7);
  const t0 = Date.UTC(2024, 0, 1);
  return Array.from({ length: n }, (_, t) => ({
    x: (t >= from ? heldAt : Math.floor(t / 12) % 2 === 0 ? 2 : 8) + 0.1 * (rnd() - 0.5),
    timestamp: t0 + t * 300_000,
  }));
}

describe('LevelNovelty', () => {
  it('flags a level only when neither its bin nor a neighbouring one was visited', () => {
    const levels = new LevelNovelty(10);
    expect(levels.isNovel(0.55)).toBe(true);
    levels.visit(0.31); // bin 3
    expect(levels.isNovel(0.35)).toBe(false); // same bin
    expect(levels.isNovel(0.45)).toBe(false); // bin 4, next to 3
    expect(levels.isNovel(0.55)).toBe(true); // bin 5: two bins away
    expect(levels.isNovel(-3)).toBe(true); // below the range: the edge bin
    levels.visit(0);
    expect(levels.isNovel(-3)).toBe(false);
  });

  it('carries the marks over when the scale grows', () => {
    const levels = new LevelNovelty(32);
    levels.visit(1); // the old maximum, 10 on a 0..10 scale
    levels.visit(0);
    levels.rescale(0, 10, 0, 30); // the range grew to 0..30: 10 is now at 1/3
    expect(levels.isNovel(10 / 30)).toBe(false);
    expect(levels.isNovel(0)).toBe(false);
    expect(levels.isNovel(20 / 30)).toBe(true);
    const point = new LevelNovelty(32);
    point.rescale(4, 4, 4, 8); // every earlier reading was 4
    expect(point.isNovel(0)).toBe(false);
    expect(point.isNovel(0.5)).toBe(true);
  });

  it('round-trips through JSON and rejects a state of another size', () => {
    const levels = new LevelNovelty(8);
    levels.visit(0.9);
    const copy = new LevelNovelty(8, JSON.parse(JSON.stringify(levels.toJSON())));
    expect(copy.isNovel(0.9)).toBe(false);
    expect(copy.isNovel(0.1)).toBe(true);
    expect(() => new LevelNovelty(9, levels.toJSON())).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    expect(() => new LevelNovelty(9, { visited: 'all' } as never)).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    expect(() => new LevelNovelty(1.5)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});

describe('AnomalyDetector level novelty', () => {
  const range = { min: 0, max: 10 };
  const rows = squareWave(400, 300, 5);

  it('scores a stream settling at a level it never visited above everything before, once learnt', () => {
    const detector = new AnomalyDetector({ range, learningPeriod: 100 });
    const scored = rows.map((r) => detector.update(r.x, r.timestamp));
    const before = Math.max(...scored.slice(100, 300).map((d) => d.score));
    expect(scored.slice(100, 300).some((d) => d.novelLevel)).toBe(false);
    expect(scored[300].novelLevel).toBe(true);
    expect(scored[300].raw).toBe(1);
    expect(scored[300].score).toBeGreaterThan(before);
    // Once visited, the level is familiar: the rows after it are not novel.
    expect(scored.slice(301).some((d) => d.novelLevel)).toBe(false);
  });

  it('without a known range, a familiar level stays familiar after the range grows', () => {
    // 2 and 8 during learning, a new maximum of 20 at row 300, then back to 8 and on to 14.
    const rnd = seededRandom(3);
    const t0 = Date.UTC(2024, 0, 1);
    const x = (t: number) => (t < 300 ? (Math.floor(t / 12) % 2 === 0 ? 2 : 8) : t === 300 ? 20 : t < 340 ? 8 : 14) + 0.05 * (rnd() - 0.5);
    const detector = new AnomalyDetector({ learningPeriod: 100 });
    const out = Array.from({ length: 400 }, (_, t) => detector.update(x(t), t0 + t * 300_000));
    expect(out[300].excursion).toBe(true);
    expect(out.slice(301, 340).some((d) => d.novelLevel)).toBe(false);
    expect(out[340].novelLevel).toBe(true);
  });

  it('is off with levelBins 0, and a snapshot without level state treats every level as visited', () => {
    const off = new AnomalyDetector({ range, learningPeriod: 100, levelBins: 0 });
    const scored = rows.map((r) => off.update(r.x, r.timestamp));
    expect(scored.some((d) => d.novelLevel)).toBe(false);
    expect(scored[300].raw).toBeLessThan(1);

    const first = new AnomalyDetector({ range, learningPeriod: 100 });
    rows.slice(0, 200).forEach((r) => first.update(r.x, r.timestamp));
    const legacy = { ...first.toJSON() };
    delete legacy.levels;
    const resumed = new AnomalyDetector({ range, learningPeriod: 100 }, legacy);
    expect(rows.slice(200).map((r) => resumed.update(r.x, r.timestamp).novelLevel).some(Boolean)).toBe(false);
  });
});
