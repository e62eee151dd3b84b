import { RingSlab, type SeriesColumns } from './internal/ringSlab.js';

/**
 * The recent points of one stream on the dashboard: a ring of at most `capacity` points, each a
 * timestamp, up to `channels` input values (`x`), up to `channels` model outputs (`y`), an anomaly
 * score and an alert flag, plus a summary (last value, score, alert state, events/s). Each point is
 * one contiguous record (`[t: float64][score, alert, x0..x(c-1), y0..y(c-1): float32]`,
 * {@link StreamHistory.bytesPerPoint} bytes). A `DashboardStore` keeps every stream's ring in shared
 * storage (see `internal/ringSlab.ts`), reserved at full size when the stream first appears, so
 * recording a point allocates nothing and follows no pointers; this class is the view of one of
 * them. Constructed directly, it owns a ring of its own. Missing values are NaN.
 *
 * @example
 * ```ts
 * const h = new StreamHistory('sensor-1', 300, 4);
 * h.push(Date.now(), [21.5], [21.4], 0.1, false, NaN);
 * h.count; // 1 (points ever pushed: the sequence number of the next point)
 * ```
 */
export class StreamHistory {
  /**
   * Bytes one point takes with `channels` input and output channels: 8 (time) + 4 (score) + 4 (alert)
   * + 8 per channel (an input and an output value).
   *
   * @example
   * ```ts
   * StreamHistory.bytesPerPoint(4); // 48
   * ```
   */
  static bytesPerPoint(channels: number): number {
    return 16 + 8 * channels;
  }

  readonly capacity: number;
  readonly channels: number;
  private readonly slab: RingSlab;
  private readonly id: number;

  /**
   * A stream of its own (`capacity` points of `channels` channels), or, given `ring`, the view of
   * ring `ring.id` in a store's shared storage.
   */
  constructor(readonly key: string, capacity: number, channels: number, ring?: { slab: RingSlab; id: number }) {
    this.slab = ring?.slab ?? new RingSlab(capacity, channels, 1);
    this.id = ring?.id ?? this.slab.alloc();
    this.capacity = this.slab.capacity;
    this.channels = this.slab.channels;
  }

  /** Points ever pushed; the newest point's sequence number is `count - 1`. */
  get count(): number {
    return this.slab.count(this.id);
  }
  /** Sequence number of the oldest point still held. */
  get oldest(): number {
    return this.count - this.slab.size(this.id);
  }
  /** Input channels seen so far (at most `channels`). */
  get xWidth(): number {
    return this.slab.xWidth(this.id);
  }
  /** Output channels seen so far (at most `channels`). */
  get yWidth(): number {
    return this.slab.yWidth(this.id);
  }
  /** Wall-clock ms of the newest point's arrival. */
  get lastSeen(): number {
    return this.slab.lastSeen(this.id);
  }
  /** Newest point's first input value (else its first output; NaN when neither). */
  get lastValue(): number {
    return this.slab.lastValue(this.id);
  }
  /** Newest score (NaN when absent), at full precision. */
  get lastScore(): number {
    return this.slab.lastScore(this.id);
  }
  /** The newest threshold given (NaN when none was). */
  get threshold(): number {
    return this.slab.threshold(this.id);
  }
  /** Whether the newest point was an alert. */
  get alertActive(): boolean {
    return this.slab.alertActive(this.id);
  }
  /** Alert runs started (rising edges). */
  get alerts(): number {
    return this.slab.alerts(this.id);
  }
  /** Events per second over the last rate window (updated by {@link StreamHistory.markRate}). */
  get rate(): number {
    return this.slab.rate(this.id);
  }
  /** Bytes of this stream's ring (reserved at full size). */
  get bytes(): number {
    return this.capacity * StreamHistory.bytesPerPoint(this.channels);
  }

  /**
   * Appends one point (overwriting the oldest when full), arriving `arrival` ms (default
   * `timestamp`). `x`/`y` beyond `channels` values are cut; absent ones are NaN. Returns true when
   * this point starts an alert run (an alert after a non-alert point).
   */
  push(timestamp: number, x: ArrayLike<number> | null, y: ArrayLike<number> | null, score: number, alert: boolean, threshold: number, arrival = timestamp): boolean {
    return this.slab.push(this.id, timestamp, arrival, x, y, score, alert, threshold);
  }

  /** Recomputes {@link StreamHistory.rate} from the points pushed since the last call. */
  markRate(now: number): void {
    this.slab.markRate(this.id, now);
  }

  /**
   * Points with sequence number `>= from` (at most `limit`, the newest ones), as columns ready for
   * JSON: `reset` is true when points between `from` and the first one returned are not included
   * (overwritten, or beyond `limit`).
   */
  since(from: number, limit = this.capacity): SeriesColumns {
    return this.slab.columns(this.id, this.key, from, limit);
  }
}

export type { SeriesColumns } from './internal/ringSlab.js';
