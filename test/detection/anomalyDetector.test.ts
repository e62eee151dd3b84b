import { describe, expect, it } from 'vitest';
import { AnomalyDetector, logGaussianTail, resolveDetectorOptions, tailScore } from '../../src/detection/index.js';
import { sineSeries } from './series.js';

const run = (d: AnomalyDetector, rows: { x: number; timestamp: number }[]) => rows.map((r) => d.update(r.x, r.timestamp));

describe('logGaussianTail', () => {
  it('matches known tail probabilities, far into the tail', () => {
    expect(Math.exp(logGaussianTail(0))).toBeCloseTo(0.5, 6);
    expect(Math.exp(logGaussianTail(1.959964))).toBeCloseTo(0.025, 6);
    expect(Math.exp(logGaussianTail(-1.959964))).toBeCloseTo(0.975, 6);
    // Q(10) = 7.6198530241605e-24 and Q(40) = 3.655893540915e-350 (below float64: only the log survives)
    expect(logGaussianTail(10) / Math.log(7.6198530241605e-24)).toBeCloseTo(1, 6);
    expect(logGaussianTail(40)).toBeCloseTo(-804.608, 2);
  });

  it('maps tail probabilities to distinct scores below 1', () => {
    expect(tailScore(Math.log(1e-5), 5)).toBeCloseTo(0.5, 12);
    const strong = tailScore(logGaussianTail(20), 5);
    const stronger = tailScore(logGaussianTail(40), 5);
    expect(strong).toBeLessThan(stronger);
    expect(stronger).toBeLessThan(1);
  });
});

describe('AnomalyDetector', () => {
  it('gives the same scores for the same input and seed, other scores for another seed', () => {
    const rows = sineSeries(300, 1, 250, 4);
    const a = run(new AnomalyDetector({ learningPeriod: 50, seed: 3 }), rows).map((d) => d.score);
    const b = run(new AnomalyDetector({ learningPeriod: 50, seed: 3 }), rows).map((d) => d.score);
    const c = run(new AnomalyDetector({ learningPeriod: 50, seed: 4 }), rows).map((d) => d.score);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('scores within [0, 1], 0 while learning, and a spike above everything before it', () => {
    const rows = sineSeries(400, 2, 350, 6);
    const out = run(new AnomalyDetector({ learningPeriod: 100 }), rows);
    for (const d of out) expect(d.score >= 0 && d.score < 1).toBe(true);
    expect(out.slice(0, 100).every((d) => d.score === 0)).toBe(true);
    const before = Math.max(...out.slice(100, 350).map((d) => d.score));
    expect(out[350].score).toBeGreaterThan(before);
    expect(out[350].excursion).toBe(true);
  });

  it('never looks ahead: changing or cutting what follows t leaves scores up to t alone', () => {
    const rows = sineSeries(300, 5);
    const full = run(new AnomalyDetector({ learningPeriod: 40 }), rows).map((d) => d.score);
    const cut = run(new AnomalyDetector({ learningPeriod: 40 }), rows.slice(0, 200)).map((d) => d.score);
    const changed = rows.map((r, i) => (i >= 200 ? { ...r, x: -r.x * 7 } : r));
    const other = run(new AnomalyDetector({ learningPeriod: 40 }), changed).map((d) => d.score);
    expect(cut).toEqual(full.slice(0, 200));
    expect(other.slice(0, 200)).toEqual(full.slice(0, 200));
    expect(other.slice(200)).not.toEqual(full.slice(200));
  });

  it('continues exactly from a JSON snapshot taken at any point, mid-window included', () => {
    const rows = sineSeries(260, 6, 230, 3);
    const o = resolveDetectorOptions({ learningPeriod: 30, window: 16 });
    const full = run(new AnomalyDetector(o), rows).map((d) => d.score);
    for (const at of [1, 16, 101, 117]) {
      const first = new AnomalyDetector(o);
      run(first, rows.slice(0, at));
      const json = JSON.parse(JSON.stringify(first.toJSON()));
      const resumed = run(new AnomalyDetector(o, json), rows.slice(at)).map((d) => d.score);
      expect(resumed, `snapshot after ${at} readings`).toEqual(full.slice(at));
    }
  });

  it('rejects bad options with SEQ_INVALID_OPTION', () => {
    expect(() => new AnomalyDetector({ hiddenSize: 0 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => new AnomalyDetector({ range: { min: 2, max: 1 } })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => new AnomalyDetector({ cell: 'tcn' as never })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
