import { featureSize, LogMelFeatures, NoiseFloor, type LogMelSettings } from './logMelFeatures.js';

/**
 * Log-mel features of a whole clip, framed exactly as {@link AudioTagger} frames a stream:
 * frame k covers `[k·hop, (k+1)·hop)`, its window centred on that slot (zeros before the start
 * and after the end), for every k with `k·hop < samples.length`. Returns `frames x featureSize(settings)`
 * values, row-major (with the noise floor: the bands, then their height above it).
 *
 * @example
 * ```ts
 * const { frames, values } = logMelFrames(samples, DEFAULT_LOG_MEL);
 * ```
 */
export function logMelFrames(samples: ArrayLike<number>, settings: LogMelSettings): { frames: number; values: Float32Array } {
  const f = new LogMelFeatures(settings);
  const { windowSize: W, hopSize: hop, melBands: M } = settings;
  const lead = Math.floor((W - hop) / 2);
  const frames = Math.ceil(samples.length / hop);
  const padded = new Float32Array(lead + frames * hop + W);
  for (let i = 0; i < samples.length; i++) padded[lead + i] = samples[i];
  const F = featureSize(settings);
  const floor = F > M ? new NoiseFloor(settings) : null;
  const values = new Float32Array(frames * F);
  for (let k = 0; k < frames; k++) {
    f.compute(padded, k * hop, values, k * F);
    floor?.apply(values, k * F);
  }
  return { frames, values };
}
