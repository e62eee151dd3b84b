import { copyPoint, pointStride, writePoint } from './pointRecord.js';

/** Rings per chunk of ring storage. */
export const RINGS_PER_CHUNK = 64;

// Per ring, META float64 words; the first eight (one cache line when aligned) are all a new point
// touches, so recording a point costs that line and the point's own record.
const META = 16;
const COUNT = 0; // points ever pushed
const WRITE = 1; // slot of the next point
const LAST_SEEN = 2;
const LAST_SCORE = 3;
const BITS = 4; // alertActive | xWidth << 1 | yWidth << 9
const THRESHOLD = 5;
const ALERTS = 6;
const RATE = 8;
const RATE_COUNT = 9;
const RATE_AT = 10;

/**
 * Every stream's ring of recent points, in shared storage: ring `id` holds `capacity` points of the
 * `pointRecord.ts` layout in chunk `id >> 6` (a chunk is one `ArrayBuffer` for 64 rings, allocated
 * when its first ring is), and its summary (count, last score, alert state, ...) in one shared
 * `Float64Array`. Compared with an object and a buffer per stream, recording a point follows no
 * pointers: the id gives the summary's line and, from its write slot, the record's address, so a
 * point costs two cache misses instead of four or five, and nothing is allocated. Released ids are
 * reused, so storage never exceeds `maxRings` rings.
 *
 * @example
 * ```ts
 * const slab = new RingSlab(300, 4, 1000);
 * const id = slab.alloc();
 * slab.push(id, Date.now(), Date.now(), [21.5], null, 0.1, false, NaN);
 * slab.count(id); // 1
 * ```
 */
export class RingSlab {
  readonly stride: number;
  private meta: Float64Array;
  private readonly chunks64: Float64Array[] = [];
  private readonly chunks32: Float32Array[] = [];
  private readonly freeIds: number[] = [];
  private issued = 0;

  constructor(readonly capacity: number, readonly channels: number, readonly maxRings: number) {
    this.stride = pointStride(channels);
    this.meta = new Float64Array(META * Math.min(maxRings, RINGS_PER_CHUNK));
  }

  /** Bytes of ring storage allocated (chunks), which `maxRings` bounds. */
  get bytes(): number {
    let n = 0;
    for (const c of this.chunks32) n += c.byteLength;
    return n;
  }

  /** Claims an empty ring; throws a RangeError when `maxRings` are in use. */
  alloc(): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      if (this.issued >= this.maxRings) throw new RangeError(`all ${this.maxRings} rings are in use`);
      id = this.issued++;
      if (id * META >= this.meta.length) {
        const meta = new Float64Array(Math.min(this.maxRings * META, this.meta.length * 2));
        meta.set(this.meta);
        this.meta = meta;
      }
      if ((id & (RINGS_PER_CHUNK - 1)) === 0) {
        const rings = Math.min(RINGS_PER_CHUNK, this.maxRings - id);
        const buffer = new ArrayBuffer(rings * this.capacity * this.stride * 4);
        this.chunks64.push(new Float64Array(buffer));
        this.chunks32.push(new Float32Array(buffer));
      }
    }
    const m = this.meta;
    const b = id * META;
    m.fill(0, b, b + META);
    m[b + LAST_SCORE] = NaN;
    m[b + THRESHOLD] = NaN;
    return id;
  }

  /** Gives ring `id` back (its points are forgotten; the id is reused). */
  release(id: number): void {
    this.freeIds.push(id);
  }

  /** First word of slot `slot` of ring `id` in its chunk. */
  private base(id: number, slot: number): number {
    return ((id & (RINGS_PER_CHUNK - 1)) * this.capacity + slot) * this.stride;
  }

  /** Appends a point given as values; true when it starts an alert run. */
  push(id: number, timestamp: number, arrival: number, x: ArrayLike<number> | null, y: ArrayLike<number> | null, score: number, alert: boolean, threshold: number): boolean {
    const slot = this.claim(id);
    const c = id >> 6;
    return this.account(id, writePoint(this.chunks64[c], this.chunks32[c], this.base(id, slot), this.channels, timestamp, x, y, score, alert), alert, arrival, score, threshold);
  }

  /** Appends a point copied from a buffer of the same layout (widths as `writePoint` returned them). */
  pushRecord(id: number, from64: Float64Array, from32: Float32Array, fromBase: number, widths: number, arrival: number, score: number, threshold: number): boolean {
    const slot = this.claim(id);
    const c = id >> 6;
    copyPoint(from64, from32, fromBase, this.chunks64[c], this.chunks32[c], this.base(id, slot), this.stride);
    return this.account(id, widths, from32[fromBase + 3] === 1, arrival, score, threshold);
  }

  private claim(id: number): number {
    const m = this.meta;
    const b = id * META;
    const slot = m[b + WRITE];
    m[b + WRITE] = slot + 1 === this.capacity ? 0 : slot + 1;
    m[b + COUNT]++;
    return slot;
  }

  private account(id: number, widths: number, alert: boolean, arrival: number, score: number, threshold: number): boolean {
    const m = this.meta;
    const b = id * META;
    const bits = m[b + BITS];
    const xw = Math.max((bits >> 1) & 0xff, widths & 0xff);
    const yw = Math.max(bits >> 9, widths >> 8);
    const started = alert && (bits & 1) === 0;
    m[b + BITS] = (alert ? 1 : 0) | (xw << 1) | (yw << 9);
    if (started) m[b + ALERTS]++;
    m[b + LAST_SEEN] = arrival;
    m[b + LAST_SCORE] = score;
    if (threshold === threshold) m[b + THRESHOLD] = threshold; // not NaN
    return started;
  }

  count(id: number): number {
    return this.meta[id * META + COUNT];
  }
  /** Points held now (at most `capacity`). */
  size(id: number): number {
    return Math.min(this.count(id), this.capacity);
  }
  lastSeen(id: number): number {
    return this.meta[id * META + LAST_SEEN];
  }
  lastScore(id: number): number {
    return this.meta[id * META + LAST_SCORE];
  }
  threshold(id: number): number {
    return this.meta[id * META + THRESHOLD];
  }
  alerts(id: number): number {
    return this.meta[id * META + ALERTS];
  }
  alertActive(id: number): boolean {
    return (this.meta[id * META + BITS] & 1) === 1;
  }
  xWidth(id: number): number {
    return (this.meta[id * META + BITS] >> 1) & 0xff;
  }
  yWidth(id: number): number {
    return this.meta[id * META + BITS] >> 9;
  }
  rate(id: number): number {
    return this.meta[id * META + RATE];
  }

  /** The newest point's first input value, else its first output, else NaN. */
  lastValue(id: number): number {
    if (this.count(id) === 0) return NaN;
    const m = this.meta[id * META + WRITE];
    const base = this.base(id, (m === 0 ? this.capacity : m) - 1);
    const f = this.chunks32[id >> 6];
    const bits = this.meta[id * META + BITS];
    return ((bits >> 1) & 0xff) > 0 && f[base + 4] === f[base + 4] ? f[base + 4] : bits >> 9 > 0 ? f[base + 4 + this.channels] : NaN;
  }

  /** Recomputes the events/s of ring `id` from the points pushed since the last call. */
  markRate(id: number, now: number): void {
    const m = this.meta;
    const b = id * META;
    if (m[b + RATE_AT] > 0 && now > m[b + RATE_AT]) m[b + RATE] = ((m[b + COUNT] - m[b + RATE_COUNT]) * 1000) / (now - m[b + RATE_AT]);
    m[b + RATE_COUNT] = m[b + COUNT];
    m[b + RATE_AT] = now;
  }

  /** Points of ring `id` with sequence number `>= from` (at most `limit`, the newest), as columns. */
  columns(id: number, key: string, from: number, limit: number): SeriesColumns {
    const count = this.count(id);
    const start = Math.max(from, count - this.size(id), count - limit);
    const n = Math.max(0, count - start);
    const w = this.channels;
    const xWidth = this.xWidth(id);
    const yWidth = this.yWidth(id);
    const threshold = this.threshold(id);
    const cols: SeriesColumns = {
      key,
      from: start,
      next: count,
      reset: start > from,
      threshold: Number.isNaN(threshold) ? null : threshold,
      t: new Array(n),
      x: Array.from({ length: xWidth }, () => new Array(n)),
      y: Array.from({ length: yWidth }, () => new Array(n)),
      score: new Array(n),
      alert: new Array(n),
    };
    const f64 = this.chunks64[id >> 6];
    const f = this.chunks32[id >> 6];
    // The newest point is in the slot before the write slot; point `start` is n - 1 slots before it.
    let slot = (this.meta[id * META + WRITE] - n + this.capacity) % this.capacity;
    for (let k = 0; k < n; k++) {
      const base = this.base(id, slot);
      cols.t[k] = f64[base >> 1];
      cols.score[k] = finiteOrNull(f[base + 2]);
      cols.alert[k] = f[base + 3];
      for (let i = 0; i < xWidth; i++) cols.x[i][k] = finiteOrNull(f[base + 4 + i]);
      for (let i = 0; i < yWidth; i++) cols.y[i][k] = finiteOrNull(f[base + 4 + w + i]);
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
    return cols;
  }
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** A run of points of one stream, as columns (what the page's detail chart receives). */
export interface SeriesColumns {
  key: string;
  /** Sequence number of the first point here; `next` is the one after the last. */
  from: number;
  next: number;
  /** True when points before `from` that the receiver asked for are not included. */
  reset: boolean;
  threshold: number | null;
  t: number[];
  x: (number | null)[][];
  y: (number | null)[][];
  score: (number | null)[];
  alert: number[];
}
