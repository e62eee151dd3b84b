/**
 * The recent points of one stream on the dashboard: a ring of at most `capacity` points, each a
 * timestamp, up to `channels` input values (`x`), up to `channels` model outputs (`y`), an anomaly
 * score and an alert flag. Storage is typed arrays that start small and double up to `capacity`,
 * so a key with few points costs little and no key ever costs more than
 * `capacity × (13 + 8 × channels)` bytes. Missing values are NaN.
 *
 * @example
 * ```ts
 * const h = new StreamHistory('sensor-1', 300, 4);
 * h.push(Date.now(), [21.5], [21.4], 0.1, false, NaN);
 * h.count; // 1 (points ever pushed: the sequence number of the next point)
 * ```
 */
export class StreamHistory {
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
  private t: Float64Array;
  private score: Float32Array;
  private flag: Uint8Array;
  private values: Float32Array;

  constructor(readonly key: string, readonly capacity: number, readonly channels: number) {
    const initial = Math.min(capacity, 16);
    this.t = new Float64Array(initial);
    this.score = new Float32Array(initial);
    this.flag = new Uint8Array(initial);
    this.values = new Float32Array(initial * 2 * channels);
  }

  /** Bytes held by this history's arrays (for memory accounting). */
  get bytes(): number {
    return this.t.byteLength + this.score.byteLength + this.flag.byteLength + this.values.byteLength;
  }

  /**
   * Appends one point (overwriting the oldest when full). `x`/`y` beyond `channels` values are
   * cut; absent ones are NaN. Returns true when this point starts an alert run (an alert after a
   * non-alert point).
   */
  push(timestamp: number, x: ArrayLike<number> | null, y: ArrayLike<number> | null, score: number, alert: boolean, threshold: number): boolean {
    if (this.size === this.t.length && this.size < this.capacity) this.grow();
    const slot = this.count % this.t.length;
    const w = this.channels;
    const base = slot * 2 * w;
    const v = this.values;
    const nx = x ? Math.min(x.length, w) : 0;
    const ny = y ? Math.min(y.length, w) : 0;
    for (let i = 0; i < w; i++) {
      v[base + i] = i < nx ? (x as ArrayLike<number>)[i] : NaN;
      v[base + w + i] = i < ny ? (y as ArrayLike<number>)[i] : NaN;
    }
    if (nx > this.xWidth) this.xWidth = nx;
    if (ny > this.yWidth) this.yWidth = ny;
    this.t[slot] = timestamp;
    this.score[slot] = score;
    this.flag[slot] = alert ? 1 : 0;
    const started = alert && !this.alertActive;
    if (started) this.alerts++;
    this.alertActive = alert;
    this.lastValue = nx > 0 ? v[base] : ny > 0 ? v[base + w] : NaN;
    this.lastScore = score;
    if (!Number.isNaN(threshold)) this.threshold = threshold;
    if (this.size < this.t.length) this.size++;
    this.count++;
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
    for (let k = 0; k < n; k++) {
      const slot = (start + k) % this.t.length;
      cols.t[k] = this.t[slot];
      for (let i = 0; i < this.xWidth; i++) cols.x[i][k] = finiteOrNull(this.values[slot * 2 * w + i]);
      for (let i = 0; i < this.yWidth; i++) cols.y[i][k] = finiteOrNull(this.values[slot * 2 * w + w + i]);
      cols.score[k] = finiteOrNull(this.score[slot]);
      cols.alert[k] = this.flag[slot];
    }
    return cols;
  }

  private grow(): void {
    // Full ring (size === length): the oldest point is at count % length. Unroll it into a twice
    // larger array as two contiguous runs, so sequence number seq sits at seq % newLength.
    const old = this.t.length;
    const n = Math.min(this.capacity, old * 2);
    const head = this.count % old; // slot of the oldest point
    const w2 = 2 * this.channels;
    const t = new Float64Array(n);
    const score = new Float32Array(n);
    const flag = new Uint8Array(n);
    const values = new Float32Array(n * w2);
    const oldestSeq = this.count - this.size;
    // Runs [head, old) then [0, head) hold sequence numbers oldestSeq, oldestSeq + 1, ...
    for (const [from, to, seq] of [[head, old, oldestSeq], [0, head, oldestSeq + (old - head)]] as const) {
      let at = from;
      let s = seq;
      while (at < to) {
        // Copy as far as the destination wraps (it cannot wrap more than once: n >= old).
        const dest = s % n;
        const len = Math.min(to - at, n - dest);
        t.set(this.t.subarray(at, at + len), dest);
        score.set(this.score.subarray(at, at + len), dest);
        flag.set(this.flag.subarray(at, at + len), dest);
        values.set(this.values.subarray(at * w2, (at + len) * w2), dest * w2);
        at += len;
        s += len;
      }
    }
    this.t = t;
    this.score = score;
    this.flag = flag;
    this.values = values;
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
