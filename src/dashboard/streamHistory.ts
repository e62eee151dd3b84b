import { copyPoint, pointStride, writePoint } from './internal/pointRecord.js';

/**
 * The recent points of one stream on the dashboard: a ring of at most `capacity` points, each a
 * timestamp, up to `channels` input values (`x`), up to `channels` model outputs (`y`), an anomaly
 * score and an alert flag. Each point is one contiguous record in a single `ArrayBuffer`
 * (`[t: float64][score, alert, x0..x(c-1), y0..y(c-1): float32]`, {@link StreamHistory.bytesPerPoint}
 * bytes), so recording a point writes one cache line or two and allocates nothing. The buffer starts
 * at 16 points and doubles up to `capacity`, so a key with few points costs little and no key ever
 * costs more than `capacity × (16 + 8 × channels)` bytes. Missing values are NaN.
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

  /** Points ever pushed; the newest point's sequence number is `count - 1`. */
  count = 0;
  /** Input channels seen so far (at most `channels`). */
  xWidth = 0;
  /** Output channels seen so far (at most `channels`). */
  yWidth = 0;
  /** Wall-clock ms of the newest point's arrival. */
  lastSeen = 0;
  /** Newest first input value, score and threshold (NaN when absent). */
  lastValue = NaN;
  lastScore = NaN;
  threshold = NaN;
  /** Whether the newest point was an alert, and how many alert runs started (rising edges). */
  alertActive = false;
  alerts = 0;
  /** Seen since the store's eviction clock last passed it (second-chance eviction). */
  touched = false;
  /** Events per second over the last rate window (updated by {@link StreamHistory.markRate}). */
  rate = 0;
  private rateCount = 0;
  private rateAt = 0;
  private size = 0;
  /** Points the buffer holds now (16, 32, ... up to capacity). */
  private slots: number;
  /** Slot the next point goes to; the held points are the `size` slots before it, wrapping. */
  private writeSlot = 0;
  /** Float32 words per point (even, so the float64 time of slot s sits at `s * stride / 2`). */
  private readonly stride: number;
  private f64: Float64Array;
  private f32: Float32Array;

  constructor(readonly key: string, readonly capacity: number, readonly channels: number) {
    this.stride = pointStride(channels);
    this.slots = Math.min(capacity, 16);
    const buffer = new ArrayBuffer(this.slots * this.stride * 4);
    this.f64 = new Float64Array(buffer);
    this.f32 = new Float32Array(buffer);
  }

  /** Bytes held by this history's buffer (for memory accounting). */
  get bytes(): number {
    return this.f32.byteLength;
  }

  /**
   * Appends one point (overwriting the oldest when full). `x`/`y` beyond `channels` values are
   * cut; absent ones are NaN. Returns true when this point starts an alert run (an alert after a
   * non-alert point).
   */
  push(timestamp: number, x: ArrayLike<number> | null, y: ArrayLike<number> | null, score: number, alert: boolean, threshold: number): boolean {
    const base = this.nextBase();
    return this.account(base, writePoint(this.f64, this.f32, base, this.channels, timestamp, x, y, score, alert), score, threshold);
  }

  /**
   * Appends one point copied from a buffer of the same layout (see `pointRecord.ts`), with its
   * widths as `writePoint` returned them and the score at full precision (the summary keeps it;
   * the ring holds float32). Same result as {@link StreamHistory.push}.
   */
  pushRecord(from64: Float64Array, from32: Float32Array, fromBase: number, widths: number, score: number, threshold: number): boolean {
    const base = this.nextBase();
    copyPoint(from64, from32, fromBase, this.f64, this.f32, base, this.stride);
    return this.account(base, widths, score, threshold);
  }

  /** Claims the next slot (growing first when full and below capacity); returns its first word. */
  private nextBase(): number {
    if (this.size === this.slots && this.slots < this.capacity) this.grow();
    const slot = this.writeSlot;
    this.writeSlot = slot + 1 === this.slots ? 0 : slot + 1;
    if (this.size < this.slots) this.size++;
    this.count++;
    return slot * this.stride;
  }

  /** Updates the summary from the point just written at `base`; true when it starts an alert run. */
  private account(base: number, widths: number, score: number, threshold: number): boolean {
    const f = this.f32;
    const nx = widths & 0xff;
    const ny = widths >> 8;
    if (nx > this.xWidth) this.xWidth = nx;
    if (ny > this.yWidth) this.yWidth = ny;
    const alert = f[base + 3] === 1;
    const started = alert && !this.alertActive;
    if (started) this.alerts++;
    this.alertActive = alert;
    this.lastValue = nx > 0 ? f[base + 4] : ny > 0 ? f[base + 4 + this.channels] : NaN;
    this.lastScore = score;
    if (threshold === threshold) this.threshold = threshold; // not NaN
    return started;
  }

  /** Sequence number of the oldest point still held. */
  get oldest(): number {
    return this.count - this.size;
  }

  /** Recomputes {@link StreamHistory.rate} from the points pushed since the last call. */
  markRate(now: number): void {
    if (this.rateAt > 0 && now > this.rateAt) this.rate = ((this.count - this.rateCount) * 1000) / (now - this.rateAt);
    this.rateCount = this.count;
    this.rateAt = now;
  }

  /**
   * Points with sequence number `>= from` (at most `limit`, the newest ones), as columns ready for
   * JSON: `reset` is true when points between `from` and the oldest held were overwritten.
   */
  since(from: number, limit = this.capacity): SeriesColumns {
    const start = Math.max(from, this.oldest, this.count - limit);
    const n = Math.max(0, this.count - start);
    const w = this.channels;
    const cols: SeriesColumns = {
      key: this.key,
      from: start,
      next: this.count,
      reset: start > from,
      threshold: Number.isNaN(this.threshold) ? null : this.threshold,
      t: new Array(n),
      x: Array.from({ length: this.xWidth }, () => new Array(n)),
      y: Array.from({ length: this.yWidth }, () => new Array(n)),
      score: new Array(n),
      alert: new Array(n),
    };
    const f = this.f32;
    // The newest point is in the slot before writeSlot; point `start` is n - 1 slots before that.
    let slot = (this.writeSlot - n + this.slots) % this.slots;
    for (let k = 0; k < n; k++) {
      const base = slot * this.stride;
      cols.t[k] = this.f64[base >> 1];
      cols.score[k] = finiteOrNull(f[base + 2]);
      cols.alert[k] = f[base + 3];
      for (let i = 0; i < this.xWidth; i++) cols.x[i][k] = finiteOrNull(f[base + 4 + i]);
      for (let i = 0; i < this.yWidth; i++) cols.y[i][k] = finiteOrNull(f[base + 4 + w + i]);
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
    return cols;
  }

  private grow(): void {
    // Only called when full, so the oldest point is at writeSlot: unroll the ring into a buffer
    // twice as large, oldest first, and continue writing after the newest. Bytes are copied as
    // bytes (a float64 time spans two float32 words, which a float copy could alter).
    const old = new Uint8Array(this.f32.buffer);
    const slots = Math.min(this.capacity, this.slots * 2);
    const buffer = new ArrayBuffer(slots * this.stride * 4);
    const bytes = new Uint8Array(buffer);
    const split = this.writeSlot * this.stride * 4;
    bytes.set(old.subarray(split), 0);
    bytes.set(old.subarray(0, split), old.length - split);
    this.writeSlot = this.slots;
    this.slots = slots;
    this.f64 = new Float64Array(buffer);
    this.f32 = new Float32Array(buffer);
  }
}

/** A run of points of one stream, as columns (what the page's detail chart receives). */
export interface SeriesColumns {
  key: string;
  /** Sequence number of the first point here; `next` is the one after the last. */
  from: number;
  next: number;
  /** True when points before `from` that the receiver asked for were already overwritten. */
  reset: boolean;
  threshold: number | null;
  t: number[];
  x: (number | null)[][];
  y: (number | null)[][];
  score: (number | null)[];
  alert: number[];
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
