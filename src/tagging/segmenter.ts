import { InvalidOptionError } from '../errors.js';

/** How frame probabilities become segments; recorded in the model file. */
export interface SmoothingOptions {
  /** A segment starts when the probability reaches this. Default 0.6. */
  onThreshold?: number;
  /** ... and ends when it falls below this (hysteresis; <= onThreshold). Default 0.45. */
  offThreshold?: number;
  /** Segments shorter than this are dropped. Default 120 ms. */
  minSpeechMs?: number;
  /** Gaps shorter than this are bridged; also the hold before a segment's end is decided. Default 200 ms. */
  minSilenceMs?: number;
}

/** A decided segment `[start, end)` in seconds. */
export interface Segment {
  start: number;
  end: number;
  label: string;
}

/**
 * Defaults of {@link SmoothingOptions}.
 *
 * @example
 * ```ts
 * DEFAULT_SMOOTHING.onThreshold; // 0.6
 * ```
 */
export const DEFAULT_SMOOTHING: Required<SmoothingOptions> = { onThreshold: 0.6, offThreshold: 0.45, minSpeechMs: 120, minSilenceMs: 200 };

/**
 * Fills and checks {@link SmoothingOptions} (`SEQ_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * resolveSmoothing({ onThreshold: 0.7 }).offThreshold; // 0.45
 * ```
 */
export function resolveSmoothing(options: SmoothingOptions = {}): Required<SmoothingOptions> {
  const r = { ...DEFAULT_SMOOTHING, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<SmoothingOptions>;
  if (!(r.onThreshold > 0 && r.onThreshold < 1)) throw new InvalidOptionError('onThreshold', 'a number in (0, 1)', r.onThreshold);
  if (!(r.offThreshold > 0 && r.offThreshold <= r.onThreshold)) throw new InvalidOptionError('offThreshold', `a number in (0, onThreshold = ${r.onThreshold}]`, r.offThreshold);
  if (!(r.minSpeechMs >= 0 && Number.isFinite(r.minSpeechMs))) throw new InvalidOptionError('minSpeechMs', 'a finite number >= 0', r.minSpeechMs);
  if (!(r.minSilenceMs >= 0 && Number.isFinite(r.minSilenceMs))) throw new InvalidOptionError('minSilenceMs', 'a finite number >= 0', r.minSilenceMs);
  return r;
}

/**
 * Streaming hysteresis smoother for one label: frame probabilities in, segments out as soon as
 * each is decided.
 *
 * Algorithm, per frame `[t, t + hop)` with probability p:
 * 1. Outside a segment, p >= `onThreshold` opens one at t (or re-opens the last one when the
 *    gap since its end is shorter than `minSilenceMs`: short pauses are bridged).
 * 2. Inside, p < `offThreshold` closes it at t, tentatively.
 * 3. A closed segment is decided once `minSilenceMs` of silence follow it: emitted if it is at
 *    least `minSpeechMs` long, else dropped. `end(time)` decides what is left.
 * Output is ordered, non-overlapping and within `[0, end]`.
 *
 * @example
 * ```ts
 * const s = new Segmenter('speech', 0.01);
 * const out = [0.1, 0.9, 0.9].flatMap((p, k) => s.push(k * 0.01, p));
 * out.push(...s.end(1));
 * ```
 */
export class Segmenter {
  private readonly o: Required<SmoothingOptions>;
  private open = false;
  private start = 0;
  /** A closed, undecided segment: [pendingStart, pendingEnd), or pendingEnd < 0 for none. */
  private pendingStart = 0;
  private pendingEnd = -1;

  constructor(readonly label: string, readonly hopSeconds: number, options: SmoothingOptions = {}) {
    this.o = resolveSmoothing(options);
  }

  /** One frame starting at `time` (seconds) with probability `p`; returns segments now decided. */
  push(time: number, p: number): readonly Segment[] {
    // most frames decide nothing: share one empty array rather than allocate per frame
    let out: Segment[] = NOTHING;
    const minSilence = this.o.minSilenceMs / 1000;
    if (!this.open) {
      if (this.pendingEnd >= 0 && time - this.pendingEnd >= minSilence - 1e-9) this.decide((out = []));
      if (p >= this.o.onThreshold) {
        this.open = true;
        if (this.pendingEnd >= 0) {
          this.start = this.pendingStart; // bridge the short gap
          this.pendingEnd = -1;
        } else this.start = time;
      }
    } else if (p < this.o.offThreshold) {
      this.open = false;
      this.pendingStart = this.start;
      this.pendingEnd = time;
    }
    return out;
  }

  /** The audio ended at `time`: decides what is open or pending. */
  end(time: number): Segment[] {
    const out: Segment[] = [];
    if (this.open) {
      this.open = false;
      this.pendingStart = this.start;
      this.pendingEnd = time;
    }
    if (this.pendingEnd >= 0) {
      this.pendingEnd = Math.min(this.pendingEnd, time);
      this.decide(out);
    }
    return out;
  }

  private decide(out: Segment[]): void {
    if (this.pendingEnd - this.pendingStart >= this.o.minSpeechMs / 1000 - 1e-9 && this.pendingEnd > this.pendingStart) {
      out.push({ start: round(this.pendingStart), end: round(this.pendingEnd), label: this.label });
    }
    this.pendingEnd = -1;
  }
}

const NOTHING: Segment[] = [];

function round(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}
