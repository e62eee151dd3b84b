/** Frame counts of predicted against reference segments, see {@link countSegmentFrames}. */
export interface FrameCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** Frames of clips without any reference segment, and how many of them were called positive. */
  freeFrames: number;
  freeFp: number;
}

/** Scores of {@link FrameCounts}: pooled frame F1, false alarms, misses, false alarms on label-free clips. */
export interface SegmentScores {
  f1: number;
  /** Share of negative frames called positive. */
  falseAlarms: number;
  /** Share of positive frames missed. */
  misses: number;
  /** Share of the frames of label-free clips called positive (NaN without such clips). */
  freeFalseAlarms: number;
  frames: number;
}

/**
 * Zeroed {@link FrameCounts}.
 *
 * @example
 * ```ts
 * const counts = emptyFrameCounts();
 * ```
 */
export function emptyFrameCounts(): FrameCounts {
  return { tp: 0, fp: 0, fn: 0, tn: 0, freeFrames: 0, freeFp: 0 };
}

const inside = (t: number, segs: readonly { start: number; end: number }[]) => segs.some((s) => t >= s.start && t < s.end);

/**
 * Adds one clip of `seconds` to `into`, on a grid of `frameSeconds` (default 10 ms) frames: a
 * frame is positive when its centre lies in a segment.
 *
 * @example
 * ```ts
 * const c = emptyFrameCounts();
 * countSegmentFrames([{ start: 0, end: 1 }], [{ start: 0.5, end: 1 }], 2, c);
 * scoreFrameCounts(c).f1; // 0.666...
 * ```
 */
export function countSegmentFrames(reference: readonly { start: number; end: number }[], predicted: readonly { start: number; end: number }[], seconds: number, into: FrameCounts, frameSeconds = 0.01): FrameCounts {
  const n = Math.floor(seconds / frameSeconds + 1e-9);
  const free = reference.length === 0;
  for (let j = 0; j < n; j++) {
    const c = (j + 0.5) * frameSeconds;
    const r = inside(c, reference);
    const p = inside(c, predicted);
    if (r && p) into.tp++;
    else if (p) into.fp++;
    else if (r) into.fn++;
    else into.tn++;
    if (free) {
      into.freeFrames++;
      if (p) into.freeFp++;
    }
  }
  return into;
}

/**
 * {@link SegmentScores} of pooled counts.
 *
 * @example
 * ```ts
 * scoreFrameCounts({ tp: 8, fp: 2, fn: 2, tn: 88, freeFrames: 0, freeFp: 0 }).f1; // 0.8
 * ```
 */
export function scoreFrameCounts(c: FrameCounts): SegmentScores {
  return {
    f1: (2 * c.tp) / (2 * c.tp + c.fp + c.fn),
    falseAlarms: c.fp / (c.fp + c.tn),
    misses: c.fn / (c.tp + c.fn),
    freeFalseAlarms: c.freeFrames ? c.freeFp / c.freeFrames : NaN,
    frames: c.tp + c.fp + c.fn + c.tn,
  };
}
