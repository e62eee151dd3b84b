/** Small seeded test series for the detector tests (no corpus needed). */
import { seededRandom } from '../../src/cells/random.js';

/** A noisy daily-ish sine sampled every 5 minutes, with a spike of `spike` at `spikeAt` (if given). */
export function sineSeries(n: number, seed: number, spikeAt = -1, spike = 0): { x: number; timestamp: number }[] {
  const rnd = seededRandom(seed);
  const t0 = Date.UTC(2024, 0, 1);
  return Array.from({ length: n }, (_, t) => ({
    x: 10 + 3 * Math.sin((2 * Math.PI * t) / 48) + 0.2 * (rnd() - 0.5) + (t === spikeAt ? spike : 0),
    timestamp: t0 + t * 300_000,
  }));
}
