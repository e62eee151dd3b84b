/**
 * Natural log of the upper Gaussian tail `Q(z) = P(Z > z)` for a standard normal Z, accurate in
 * relative terms far into the tail (where `1 - Phi(z)` would round to 0 in float64).
 *
 * It uses the Chebyshev-fitted `erfc` of Numerical Recipes (`erfcc`, fractional error below
 * 1.2e-7 everywhere), written in log space so that `z = 40` gives about -804.6 instead of
 * `log(0) = -Infinity`.
 *
 * @example
 * ```ts
 * logGaussianTail(0);   // log(0.5) = -0.693...
 * logGaussianTail(10);  // -53.23... (Q(10) = 7.6e-24)
 * ```
 */
export function logGaussianTail(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const poly =
    -ax * ax -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  // erfc(ax) = t * exp(poly); Q(z) = erfc(x) / 2, and erfc(-ax) = 2 - erfc(ax).
  const logErfc = Math.log(t) + poly;
  if (x >= 0) return logErfc - Math.LN2;
  return Math.log1p(-0.5 * Math.exp(logErfc));
}

/**
 * Maps a tail probability, given as `log Q`, to a score in [0, 1) that keeps strong detections
 * apart: `s = d / (d + halfPoint)` with `d = -log10 Q` (the "number of nines" of the
 * likelihood). `Q = 10^-halfPoint` scores 0.5; the score approaches 1 without reaching it, so
 * `Q = 1e-20` and `Q = 1e-200` still get distinct scores (0.8 and 0.976 with halfPoint 5),
 * unlike a clipped `1 - Q` that is exactly 1 for every `Q < 1e-16`.
 *
 * @example
 * ```ts
 * tailScore(Math.log(1e-5), 5); // 0.5
 * tailScore(Math.log(0.5), 5);  // 0.057
 * ```
 */
export function tailScore(logQ: number, halfPoint: number): number {
  const d = Math.max(0, -logQ / Math.LN10);
  return d / (d + halfPoint);
}
