import { describe, expect, it } from 'vitest';
import { Resampler } from '../../../src/adapters/internal/resampler.js';
import { tone } from '../helpers/wav.js';

const rms = (x: ArrayLike<number>, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
};
function run(r: Resampler, input: Float64Array, chunk: number): Float32Array {
  const parts: Float32Array[] = [];
  for (let p = 0; p < input.length; p += chunk) parts.push(r.push(input.subarray(p, p + chunk)));
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

describe('Resampler', () => {
  it('converts a 1 kHz tone from 44.1 kHz to 16 kHz accurately, in any chunking', () => {
    const input = tone(1000, 44100, 44100);
    const a = run(new Resampler(44100, 16000), input, 44100);
    const b = run(new Resampler(44100, 16000), input, 37);
    expect(a.length).toBe(16000);
    expect(Array.from(b)).toEqual(Array.from(a));
    const ideal = tone(1000, 16000, 16000);
    let worst = 0;
    for (let i = 200; i < 15800; i++) worst = Math.max(worst, Math.abs(a[i] - ideal[i]));
    expect(worst).toBeLessThan(2e-3);
  });

  it('upsamples too (8 kHz -> 44.1 kHz, a reduced ratio with many phases)', () => {
    const out = run(new Resampler(8000, 44100), tone(440, 8000, 8000), 1000);
    expect(out.length).toBe(44100);
    const ideal = tone(440, 44100, 44100);
    let worst = 0;
    for (let i = 1000; i < 43000; i++) worst = Math.max(worst, Math.abs(out[i] - ideal[i]));
    expect(worst).toBeLessThan(2e-3);
  });

  it('removes content above the new Nyquist frequency instead of aliasing it', () => {
    // 6 kHz cannot exist at 8 kHz; a naive decimator would fold it to 2 kHz at full level
    const out = run(new Resampler(16000, 8000), tone(6000, 16000, 16000, 0.5), 4096);
    expect(rms(out, 200, out.length - 200)).toBeLessThan(0.5 / Math.SQRT2 / 100); // > 40 dB down
  });
});
