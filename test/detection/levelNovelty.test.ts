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

  it('round-trips through JSON and rejects a state of another size', () => {
    const levels = new LevelNovelty(8);
    levels.visit(0.9);
    const copy = new LevelNovelty(8, JSON.parse(JSON.stringify(levels.toJSON())));
    expect(copy.isNovel(0.9)).toBe(false);
    expect(copy.isNovel(0.1)).toBe(true);
    expect(() => new LevelNovelty(9, levels.toJSON())).toThrow(RangeError);
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
