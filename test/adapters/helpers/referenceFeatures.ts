/**
 * An independent, straightforward implementation of Meyda's documented feature definitions
 * (plain DFT, float64 throughout) to check the adapter's output against:
 * - window: Hann `0.5 - 0.5 cos(2 pi n / (N - 1))`, applied before everything (also rms/zcr);
 * - amplitude spectrum |X[k]| for k < N/2 of the DFT of the windowed frame;
 * - rms = sqrt(mean(w^2)); zcr = number of sign changes (a sample >= 0 counts as positive);
 * - spectralCentroid = sum(k |X[k]|) / sum(|X[k]|), in FFT bins;
 * - melBands[m] = ln(1 + sum_k H_m[k] |X[k]|^2) with triangular filters whose edges are
 *   M + 2 points equally spaced on mel = 1125 ln(1 + f / 700) from 0 to sampleRate / 2, at
 *   bin floor((N + 1) f / sampleRate);
 * - mfcc[c] = 2 sum_m melBands[m] cos(pi / M (m + 0.5) c) (unnormalised DCT-II), c < nMfcc.
 */
export interface Reference {
  rms: number;
  zcr: number;
  spectralCentroid: number;
  melBands: number[];
  mfcc: number[];
}

export function referenceFeatures(frame: ArrayLike<number>, sampleRate: number, melCount = 26, mfccCount = 13): Reference {
  const N = frame.length;
  const w = new Float64Array(N);
  for (let n = 0; n < N; n++) w[n] = frame[n] * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (N - 1)));
  let sq = 0;
  for (let n = 0; n < N; n++) sq += w[n] * w[n];
  const rms = Math.sqrt(sq / N);
  let zcr = 0;
  for (let n = 1; n < N; n++) if ((w[n - 1] >= 0) !== (w[n] >= 0)) zcr++;
  const half = N / 2;
  const amp = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    let re = 0;
    let im = 0;
    for (let n = 0; n < N; n++) {
      const a = (2 * Math.PI * k * n) / N;
      re += w[n] * Math.cos(a);
      im -= w[n] * Math.sin(a);
    }
    amp[k] = Math.hypot(re, im);
  }
  let num = 0;
  let den = 0;
  for (let k = 0; k < half; k++) {
    num += k * amp[k];
    den += amp[k];
  }
  const spectralCentroid = num / den;
  const toMel = (f: number) => 1125 * Math.log(1 + f / 700);
  const toHz = (m: number) => 700 * (Math.exp(m / 1125) - 1);
  const M = melCount;
  const top = toMel(sampleRate / 2);
  const bins: number[] = [];
  for (let i = 0; i < M + 2; i++) bins.push(Math.floor(((N + 1) * toHz((i * top) / (M + 1))) / sampleRate));
  const melBands: number[] = [];
  for (let m = 0; m < M; m++) {
    let e = 0;
    for (let k = 0; k < half; k++) {
      let h = 0;
      if (k >= bins[m] && k < bins[m + 1]) h = (k - bins[m]) / (bins[m + 1] - bins[m]);
      else if (k >= bins[m + 1] && k < bins[m + 2]) h = (bins[m + 2] - k) / (bins[m + 2] - bins[m + 1]);
      e += h * amp[k] * amp[k];
    }
    melBands.push(Math.log(1 + e));
  }
  const mfcc: number[] = [];
  for (let c = 0; c < mfccCount; c++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += melBands[m] * Math.cos((Math.PI / M) * (m + 0.5) * c);
    mfcc.push(2 * s);
  }
  return { rms, zcr, spectralCentroid, melBands, mfcc };
}

/** Frames `signal` like the adapter: frame k = samples [k*hop, k*hop + N), the last partial one zero-padded. */
export function referenceFrames(signal: ArrayLike<number>, N: number, hop: number): Float64Array[] {
  const frames: Float64Array[] = [];
  let start = 0;
  let lastEnd = 0;
  for (; start + N <= signal.length; start += hop) {
    frames.push(Float64Array.from({ length: N }, (_, i) => signal[start + i]));
    lastEnd = start + N;
  }
  if (start < signal.length && lastEnd < signal.length) {
    frames.push(Float64Array.from({ length: N }, (_, i) => (start + i < signal.length ? signal[start + i] : 0)));
  }
  return frames;
}

/** Max |a - b| relative to max(1, |b|) over two vectors. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}
