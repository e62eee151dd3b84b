import { describe, expect, it } from 'vitest';
import { resolveSmoothing, Segmenter, type Segment } from '../../src/tagging/segmenter.js';
import { codeOf } from '../support/errors.js';

/** Runs probabilities (one per 10 ms frame) through a segmenter, returning every segment and when it was decided. */
function run(probs: number[], options = {}): { segments: Segment[]; decidedAt: number[] } {
  const s = new Segmenter('speech', 0.01, options);
  const segments: Segment[] = [];
  const decidedAt: number[] = [];
  probs.forEach((p, k) => {
    for (const seg of s.push(k * 0.01, p)) {
      segments.push(seg);
      decidedAt.push(k * 0.01);
    }
  });
  for (const seg of s.end(probs.length * 0.01)) {
    segments.push(seg);
    decidedAt.push(probs.length * 0.01);
  }
  return { segments, decidedAt };
}
const frames = (spec: [number, number][]) => spec.flatMap(([p, n]) => Array(n).fill(p));

describe('Segmenter', () => {
  it('opens at onThreshold, closes below offThreshold (hysteresis), decides after minSilenceMs', () => {
    // 0.4 sits between off (0.35) and on (0.5): it neither opens nor closes
    const { segments, decidedAt } = run(frames([[0.1, 10], [0.4, 5], [0.9, 30], [0.4, 10], [0.1, 40]]), { onThreshold: 0.5, offThreshold: 0.35 });
    expect(segments).toEqual([{ start: 0.15, end: 0.55, label: 'speech' }]);
    expect(decidedAt[0]).toBeCloseTo(0.55 + 0.2, 6); // hold = minSilenceMs
  });

  it('bridges gaps shorter than minSilenceMs and drops segments shorter than minSpeechMs', () => {
    const { segments } = run(frames([[0.9, 20], [0.1, 15], [0.9, 20], [0.1, 30], [0.9, 5], [0.1, 40]]));
    expect(segments).toEqual([{ start: 0, end: 0.55, label: 'speech' }]);
  });

  it('closes an open segment at the end of the audio; nothing for silence', () => {
    expect(run(frames([[0.1, 5], [0.9, 20]])).segments).toEqual([{ start: 0.05, end: 0.25, label: 'speech' }]);
    expect(run(frames([[0, 100]])).segments).toEqual([]);
    expect(run([]).segments).toEqual([]);
  });

  it('gives ordered, non-overlapping segments within the audio for random input', () => {
    let s = 3;
    const probs = Array.from({ length: 3000 }, () => ((s = (s * 16807) % 2147483647) / 2147483647));
    const smooth = probs.map((_, k) => probs.slice(Math.max(0, k - 8), k + 1).reduce((a, b) => a + b, 0) / Math.min(k + 1, 9));
    const { segments } = run(smooth, { minSpeechMs: 0, minSilenceMs: 30 });
    expect(segments.length).toBeGreaterThan(3);
    segments.forEach((seg, i) => {
      expect(seg.end).toBeGreaterThan(seg.start);
      expect(seg.start).toBeGreaterThanOrEqual(0);
      expect(seg.end).toBeLessThanOrEqual(30);
      if (i > 0) expect(seg.start).toBeGreaterThanOrEqual(segments[i - 1].end);
    });
  });

  it('checks its options', () => {
    expect(codeOf(() => resolveSmoothing({ onThreshold: 1.5 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => resolveSmoothing({ onThreshold: 0.5, offThreshold: 0.6 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => resolveSmoothing({ minSilenceMs: -1 }))).toBe('SEQ_INVALID_OPTION');
    expect(resolveSmoothing({})).toEqual({ onThreshold: 0.6, offThreshold: 0.45, minSpeechMs: 120, minSilenceMs: 200 });
  });
});
