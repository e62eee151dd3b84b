import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/cells/random.js';
import { AnomalyDetector } from '../../src/detection/anomalyDetector.js';
import { SustainedDeviation } from '../../src/detection/sustainedDeviation.js';

const options = { historyWindow: 5000, minStd: 0.001 };

describe('SustainedDeviation', () => {
  it('is silent until the window is full, then scores a shifted mean far below noise that cancels out', () => {
    const rnd = seededRandom(3);
    const sustained = new SustainedDeviation(24, options);
    const noise = Array.from({ length: 2000 }, () => 0.1 * (rnd() - 0.5));
    const out = noise.map((r) => sustained.update(r));
    expect(out.slice(0, 23).every((q) => q === 0)).toBe(true);
    const quiet = Math.min(...out.slice(500));
    // The same noise, shifted by a fifth of its spread: no single residual is unusual, the mean is.
    let shifted = 0;
    for (let i = 0; i < 48; i++) shifted = Math.min(shifted, sustained.update(noise[i] + 0.02));
    expect(shifted).toBeLessThan(quiet);
    expect(shifted).toBeLessThan(Math.log(1e-4));
  });

  it('continues exactly from a JSON snapshot and rejects a longer state', () => {
    const rnd = seededRandom(4);
    const series = Array.from({ length: 300 }, (_, i) => rnd() - 0.5 + (i > 200 ? 0.3 : 0));
    const whole = new SustainedDeviation(16, options);
    const full = series.map((r) => whole.update(r));
    for (const at of [5, 16, 150]) {
      const first = new SustainedDeviation(16, options);
      series.slice(0, at).forEach((r) => first.update(r));
      const resumed = new SustainedDeviation(16, options, JSON.parse(JSON.stringify(first.toJSON())));
      expect(series.slice(at).map((r) => resumed.update(r)), `snapshot after ${at}`).toEqual(full.slice(at));
    }
    expect(() => new SustainedDeviation(8, options, whole.toJSON())).toThrow(expect.objectContaining({ code: 'SEQ_STATE_FORMAT' }));
    expect(() => new SustainedDeviation(0, options)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});

describe('AnomalyDetector with the sustained-deviation test', () => {
  // A daily pattern every 5 minutes for 3 weeks; on day 18, 6 hours sit 2 high (half the noise band, 3% of the range).
  const rows = () => {
    const rnd = seededRandom(9);
    const t0 = Date.UTC(2024, 0, 1);
    return Array.from({ length: 288 * 21 }, (_, t) => {
      const lifted = t >= 288 * 18 && t < 288 * 18 + 72;
      return { x: 50 + 20 * Math.sin((2 * Math.PI * t) / 288) + 4 * (rnd() - 0.5) + (lifted ? 2 : 0), timestamp: t0 + t * 300_000 };
    });
  };

  it('scores hours above the usual level for the time higher than without it, and off with sustainedWindow 0', () => {
    const series = rows();
    const o = { range: { min: 20, max: 80 }, learningPeriod: 750 };
    const on = new AnomalyDetector(o);
    const off = new AnomalyDetector({ ...o, sustainedWindow: 0 });
    const withIt = series.map((r) => on.update(r.x, r.timestamp).score);
    const without = series.map((r) => off.update(r.x, r.timestamp).score);
    // After the step into the lift (which the forecaster sees anyway), while it lasts.
    const lift = (s: number[]) => Math.max(...s.slice(288 * 18 + 12, 288 * 18 + 72));
    const before = (s: number[]) => Math.max(...s.slice(288 * 14, 288 * 18));
    expect(lift(withIt)).toBeGreaterThan(lift(without));
    expect(lift(withIt)).toBeGreaterThan(before(withIt));
    expect(on.toJSON().sustained).not.toBeNull();
    expect(off.toJSON().sustained).toBeNull();
  });

  it('never looks ahead, and a snapshot from before it existed starts it empty', () => {
    const series = rows().slice(0, 3600);
    const o = { range: { min: 20, max: 80 }, learningPeriod: 300 };
    const d1 = new AnomalyDetector(o);
    const full = series.map((r) => d1.update(r.x, r.timestamp).score);
    const d2 = new AnomalyDetector(o);
    const other = series.map((r, i) => (i >= 3000 ? { ...r, x: r.x + 10 } : r)).map((r) => d2.update(r.x, r.timestamp).score);
    expect(other.slice(0, 3000)).toEqual(full.slice(0, 3000));
    expect(other.slice(3000)).not.toEqual(full.slice(3000));
    const first = new AnomalyDetector(o);
    series.slice(0, 2400).forEach((r) => first.update(r.x, r.timestamp)); // past a week: every profile bin seen
    const legacy = { ...first.toJSON() };
    delete legacy.sustained;
    const resumed = new AnomalyDetector(o, legacy);
    series.slice(2400, 2410).forEach((r) => resumed.update(r.x, r.timestamp));
    expect(resumed.toJSON().sustained?.recent.length).toBe(10);
  });
});
