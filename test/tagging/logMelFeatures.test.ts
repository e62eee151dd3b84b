import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_MEL, featureSize, LogMelFeatures, NoiseFloor } from '../../src/tagging/logMelFeatures.js';
import { logMelFrames } from '../../src/tagging/logMelFrames.js';
import { codeOf } from '../support/errors.js';

const mel = (f: number) => 2595 * Math.log10(1 + f / 700);

describe('LogMelFeatures', () => {
  it('puts a sine in the band around its frequency, with the energy a direct DFT gives', () => {
    const f = new LogMelFeatures(DEFAULT_LOG_MEL);
    const x = Float32Array.from({ length: 400 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
    const out = new Float32Array(24);
    f.compute(x, 0, out);
    let best = 0;
    for (let b = 1; b < 24; b++) if (out[b] > out[best]) best = b;
    // band centres are equally spaced on the mel scale between fMin and fMax
    const centre = (b: number) => mel(60) + ((mel(7600) - mel(60)) * (b + 1)) / 25;
    expect(Math.abs(centre(best) - mel(1000))).toBeLessThan((mel(7600) - mel(60)) / 25);
    // direct DFT of the windowed frame at the strongest bin: power matches the band's dominant term
    const w = (i: number) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 400);
    let re = 0;
    let im = 0;
    const k = 32; // 1000 Hz at 16000/512 Hz per bin
    for (let i = 0; i < 400; i++) {
      re += x[i] * w(i) * Math.cos((2 * Math.PI * k * i) / 512);
      im -= x[i] * w(i) * Math.sin((2 * Math.PI * k * i) / 512);
    }
    expect(out[best]).toBeGreaterThan(Math.log(re * re + im * im) - 1);
    expect(out[best]).toBeLessThan(Math.log(3 * (re * re + im * im)));
  });

  it('gives ln(1e-10) for silence and finite values for clipping and DC', () => {
    const f = new LogMelFeatures(DEFAULT_LOG_MEL);
    const out = new Float32Array(24);
    f.compute(new Float32Array(400), 0, out);
    for (const v of out) expect(v).toBeCloseTo(Math.log(1e-10), 4);
    f.compute(new Float32Array(400).fill(1), 0, out);
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
    f.compute(Float32Array.from({ length: 400 }, (_, i) => (i % 2 ? 1 : -1)), 0, out);
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
  });

  it('frames a clip as k·hop slots with centred windows; the noise floor doubles the size', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 3));
    const { frames, values } = logMelFrames(x, DEFAULT_LOG_MEL);
    expect(frames).toBe(Math.ceil(1000 / 160));
    expect(values.length).toBe(frames * 24);
    const floorSettings = { ...DEFAULT_LOG_MEL, noiseFloorRiseDbPerSecond: 10 };
    expect(featureSize(floorSettings)).toBe(48);
    const withFloor = logMelFrames(x, floorSettings);
    expect(withFloor.values.length).toBe(frames * 48);
    // first frame: the floor starts at the frame itself
    for (let b = 0; b < 24; b++) expect(withFloor.values[24 + b]).toBe(0);
    for (let b = 0; b < 24; b++) expect(withFloor.values[48 + b]).toBe(values[24 + b]);
  });

  it('the noise floor falls at once and rises at most its rate', () => {
    const floor = new NoiseFloor({ ...DEFAULT_LOG_MEL, melBands: 1, noiseFloorRiseDbPerSecond: 10 });
    const v = new Float32Array(2);
    const rise = Math.LN10 * 0.01; // 10 dB/s over 10 ms, in ln-power units
    const heights = [0, -5, 10, 10].map((x) => {
      v[0] = x;
      floor.apply(v, 0);
      return v[1];
    });
    expect(heights[0]).toBe(0);
    expect(heights[1]).toBe(0);
    expect(heights[2]).toBeCloseTo(15 - rise, 5);
    expect(heights[3]).toBeCloseTo(15 - 2 * rise, 5);
  });

  it('checks its settings', () => {
    expect(codeOf(() => new LogMelFeatures({ ...DEFAULT_LOG_MEL, fftSize: 500 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => new LogMelFeatures({ ...DEFAULT_LOG_MEL, windowSize: 1024 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => new LogMelFeatures({ ...DEFAULT_LOG_MEL, fMax: 9000 }))).toBe('SEQ_INVALID_OPTION');
  });
});
