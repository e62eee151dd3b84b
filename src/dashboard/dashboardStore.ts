import { SeqstreamError } from '../errors.js';
import { integerOption } from '../options.js';
import { PendingPoints } from './internal/pendingPoints.js';
import { RingSlab } from './internal/ringSlab.js';
import { StreamHistory } from './streamHistory.js';

/**
 * One keyed output the dashboard shows: what `recurrentByKey` (`{ key, y }`), a sensor source
 * (`{ key, timestamp, x }`) and an anomaly detector (`{ key, score, alert }`) emit. Every field
 * but `key` is optional; vectors may be arrays or typed arrays, a lone number is one channel.
 *
 * @example
 * ```ts
 * const e: DashboardEvent = { key: 'pump-3', timestamp: Date.now(), x: [0.7], y: [0.68], score: 0.02, alert: false };
 * ```
 */
export interface DashboardEvent {
  key: string | number;
  /** Event time, ms since the epoch. Default: arrival time. */
  timestamp?: number;
  /** The reading (model input). */
  x?: ArrayLike<number> | number;
  /** The model's output (its prediction). */
  y?: ArrayLike<number> | number;
  /** Anomaly score (higher = more anomalous). */
  score?: number;
  /** Whether this event is an alert. */
  alert?: boolean;
  /** The score threshold in use, drawn as a line on the chart. */
  threshold?: number;
}

/** Events recorded with one reading of the arrival clock, at most (see {@link DashboardStore.push}). */
export const ARRIVAL_CLOCK_EVENTS = 256;

/** Events held in the pending batch before they are filed into their rings (see {@link DashboardStore.push}). */
export const PENDING_POINTS = 1024;

/** One row of the stream list: `[key, lastValue, lastScore, eventsPerSec, lastSeenMs, alertActive (0|1), alerts, count]`. */
export type StreamRow = [string, number | null, number | null, number, number, number, number, number];

/** One entry of the alert feed. */
export interface AlertEntry {
  seq: number;
  key: string;
  timestamp: number;
  score: number | null;
  value: number | null;
}

/** Pipeline counters shown on the page. */
export interface DashboardCounters {
  events: number;
  eventsPerSec: number;
  keys: number;
  /** Keys forgotten because `maxKeys` was reached (keys not seen lately first). */
  evictedKeys: number;
  /** Updates not sent to a slow or stalled page (its socket buffer was full). */
  droppedFrames: number;
  /** Events refused by the dashboard itself (bad key, ...), counted under `errors` too. */
  rejected: number;
  /** Errors by code: the dashboard's own and those reported with `reportError`. */
  errors: Record<string, number>;
  alerts: number;
}

/** Sort orders of the stream list. */
export type StreamSort = 'score' | 'key' | 'value' | 'rate' | 'lastSeen' | 'alerts';

/** Options of {@link DashboardStore}. */
export interface DashboardStoreOptions {
  /** Points kept per key. Default 300. */
  historyPoints?: number;
  /** Input and output channels kept per point (at most 64). Default 4. */
  maxChannels?: number;
  /** Keys kept; beyond, a key not seen lately is forgotten (second-chance eviction). Default 20000. */
  maxKeys?: number;
  /** Alerts kept for the feed. Default 200. */
  maxAlerts?: number;
  /** Longest key kept (longer ones are refused with `SEQ_DASHBOARD_EVENT`). Default 256. */
  maxKeyLength?: number;
}

/**
 * {@link DashboardStoreOptions} with their defaults filled in, each checked against its range:
 * `historyPoints` 2..2^20, `maxChannels` 1..64 (a point's width is packed in 8 bits), `maxKeys`
 * 1..2^24, `maxAlerts` 1..2^20, `maxKeyLength` 1..2^16. Both the store and `dashboard()` call it,
 * so a bad option fails when it is given, with `SEQ_INVALID_OPTION` naming it.
 *
 * @example
 * ```ts
 * resolveStoreOptions({ maxKeys: 100 }).historyPoints; // 300
 * resolveStoreOptions({ maxChannels: 65 }); // throws SEQ_INVALID_OPTION
 * ```
 */
export function resolveStoreOptions(options: DashboardStoreOptions): Required<DashboardStoreOptions> {
  return {
    historyPoints: integerOption('historyPoints', options.historyPoints, 300, 2, 1 << 20),
    maxChannels: integerOption('maxChannels', options.maxChannels, 4, 1, 64),
    maxKeys: integerOption('maxKeys', options.maxKeys, 20_000, 1, 1 << 24),
    maxAlerts: integerOption('maxAlerts', options.maxAlerts, 200, 1, 1 << 20),
    maxKeyLength: integerOption('maxKeyLength', options.maxKeyLength, 256, 1, 1 << 16),
  };
}

/**
 * Everything the dashboard knows, bounded: one {@link StreamHistory} per key (at most `maxKeys`;
 * beyond, a key not seen since the eviction clock last passed it leaves), the newest `maxAlerts` alerts, and counters. Pushing an event is
 * O(channels) and allocates nothing once its key exists.
 *
 * Memory: each key's ring is reserved at full size, `historyPoints × (16 + 8 × maxChannels)` bytes
 * (14.4 KB at the defaults), when the key first appears, in chunks of 64 keys; `maxKeys` bounds the
 * total: 20,000 × 300 × 48 ≈ 288 MB at the defaults, 10,000 keys ≈ 144 MB (lower `historyPoints`
 * or `maxKeys` for less). Full size up front is what makes recording a point pointer-free.
 *
 * @example
 * ```ts
 * const store = new DashboardStore({ historyPoints: 100 });
 * store.push({ key: 'a', x: [1], y: [0.9], score: 0.1 });
 * store.rows('score', true, 0, 10, '').rows[0][0]; // 'a'
 * ```
 */
export class DashboardStore {
  readonly historyPoints: number;
  readonly maxChannels: number;
  readonly maxKeys: number;
  readonly maxAlerts: number;
  readonly maxKeyLength: number;
  /** Each key's ring id, keys in insertion order for second-chance eviction (see evictOldest). */
  private readonly streams = new Map<string, number>();
  /** Every key's ring, in shared storage. */
  private readonly slab: RingSlab;
  /** The view of each ring in use, by ring id. */
  private readonly views: (StreamHistory | undefined)[] = [];
  /** Seen since the eviction clock last passed it, by ring id. */
  private readonly touched: Uint8Array;
  private readonly pending: PendingPoints;
  /** The ring of each pending point, found by the first pass of `file` (refilled every batch). */
  private readonly targets: Int32Array;
  private readonly alertRing: AlertEntry[] = [];
  private alertSeq = 0;
  private readonly counters: Omit<DashboardCounters, 'keys'> = {
    events: 0, eventsPerSec: 0, evictedKeys: 0, droppedFrames: 0, rejected: 0, errors: {}, alerts: 0,
  };
  private arrivalMs = 0;
  private arrivalUses = 0;
  private readonly expireArrival = (): void => {
    this.arrivalMs = 0;
    this.arrivalUses = 0;
  };
  private rateCount = 0;
  private rateAt = 0;
  private sorted: { order: StreamSort; desc: boolean; at: number; keys: StreamHistory[] } | null = null;

  /** @throws {InvalidOptionError} `SEQ_INVALID_OPTION` for an option out of its range (see {@link resolveStoreOptions}). */
  constructor(options: DashboardStoreOptions = {}) {
    const o = resolveStoreOptions(options);
    this.historyPoints = o.historyPoints;
    this.maxChannels = o.maxChannels;
    this.maxKeys = o.maxKeys;
    this.maxAlerts = o.maxAlerts;
    this.maxKeyLength = o.maxKeyLength;
    this.pending = new PendingPoints(PENDING_POINTS, this.maxChannels);
    this.targets = new Int32Array(PENDING_POINTS);
    this.slab = new RingSlab(this.historyPoints, this.maxChannels, this.maxKeys);
    this.touched = new Uint8Array(this.maxKeys);
  }

  /**
   * Records one event; a bad one is counted as `SEQ_DASHBOARD_EVENT` and returns its error.
   * `now` (arrival time, for "last seen" and for events without a `timestamp`) defaults to the
   * arrival clock: `Date.now()` read once per synchronous burst of events and again every
   * {@link ARRIVAL_CLOCK_EVENTS} events within a long one, because a clock read per event costs
   * more than recording the event (50-130 ns against a per-event pipeline budget of ~1 µs).
   *
   * The event is copied into a preallocated batch of {@link PENDING_POINTS} points and filed into
   * its key's ring with the rest of the batch when the batch is full or anything reads the store
   * (see `PendingPoints` for why). Allocates nothing once the key's ring is full.
   */
  push(event: DashboardEvent, now = this.arrival()): SeqstreamError | null {
    const rawKey = event?.key;
    let key: string;
    if (typeof rawKey === 'string' && rawKey.length <= this.maxKeyLength) key = rawKey;
    else if (typeof rawKey === 'number') key = String(rawKey);
    else return this.reject(rawKey);
    const ts = event.timestamp;
    const score = event.score;
    const threshold = event.threshold;
    this.counters.events++;
    // ts - ts is 0 only when ts is finite.
    if (this.pending.add(key, typeof ts === 'number' && ts - ts === 0 ? ts : now, now, vector(event.x), vector(event.y), typeof score === 'number' ? score : NaN, event.alert === true, typeof threshold === 'number' ? threshold : NaN)) this.file();
    return null;
  }

  /**
   * Files the pending batch into the rings, in arrival order (keys, eviction and alerts as if one
   * by one). Two passes, each a short loop body, so the processor overlaps the cache misses of
   * many points: first every point's ring is looked up, then every point is copied into its ring.
   * An eviction first writes the points looked up so far, since the freed ring is reused at once.
   */
  private file(): void {
    const p = this.pending;
    const n = p.length;
    const targets = this.targets;
    let written = 0;
    for (let i = 0; i < n; i++) {
      const key = p.keys[i];
      let id = this.streams.get(key);
      if (id === undefined) {
        if (this.streams.size >= this.maxKeys) {
          this.write(written, i);
          written = i;
          this.evictOldest();
        }
        id = this.slab.alloc();
        this.streams.set(key, id);
        this.views[id] = new StreamHistory(key, this.historyPoints, this.maxChannels, { slab: this.slab, id });
      } else {
        this.touched[id] = 1;
      }
      targets[i] = id;
    }
    this.write(written, n);
    p.length = 0;
  }

  /** Copies pending points `from .. to` into the rings `file` found for them. */
  private write(from: number, to: number): void {
    const p = this.pending;
    const slab = this.slab;
    for (let i = from; i < to; i++) {
      const id = this.targets[i];
      const base = i * p.stride;
      const e = i * 3;
      if (slab.pushRecord(id, p.f64, p.f32, base, p.widths[i], p.extra[e], p.extra[e + 1], p.extra[e + 2])) this.recordAlert(this.views[id]!, p.f64[base >> 1]);
    }
  }

  /** The arrival clock (see {@link DashboardStore.push}). */
  private arrival(): number {
    if (this.arrivalUses > 0) {
      this.arrivalUses--;
      return this.arrivalMs;
    }
    if (this.arrivalMs === 0) queueMicrotask(this.expireArrival); // a new burst: forget the reading when it ends
    this.arrivalMs = Date.now();
    this.arrivalUses = ARRIVAL_CLOCK_EVENTS - 1;
    return this.arrivalMs;
  }

  private reject(rawKey: unknown): SeqstreamError {
    this.counters.rejected++;
    const err = new SeqstreamError('SEQ_DASHBOARD_EVENT', `dashboard event needs a string or number 'key' of at most ${this.maxKeyLength} characters`, { key: typeof rawKey === 'string' ? rawKey.slice(0, 40) : typeof rawKey });
    this.countError(err.code);
    return err;
  }

  /** Counts an error reported by the pipeline (a source's or model's `code`). */
  countError(code: string): void {
    this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
  }

  /** Counts one update not sent to a slow page. */
  countDroppedFrame(): void {
    this.counters.droppedFrames++;
  }

  /** The history of `key`, if it is held. */
  history(key: string): StreamHistory | undefined {
    if (this.pending.length > 0) this.file();
    const id = this.streams.get(key);
    return id === undefined ? undefined : this.views[id];
  }

  /** Number of keys held. */
  get size(): number {
    if (this.pending.length > 0) this.file();
    return this.streams.size;
  }

  /** Current counters (events/s over the last {@link DashboardStore.markRates} window). */
  snapshotCounters(): DashboardCounters {
    if (this.pending.length > 0) this.file();
    return { ...this.counters, errors: { ...this.counters.errors }, keys: this.streams.size };
  }

  /** Updates global and per-key events/s; call about once a second. */
  markRates(now = Date.now()): void {
    if (this.pending.length > 0) this.file();
    if (this.rateAt > 0 && now > this.rateAt) this.counters.eventsPerSec = ((this.counters.events - this.rateCount) * 1000) / (now - this.rateAt);
    this.rateCount = this.counters.events;
    this.rateAt = now;
    for (const id of this.streams.values()) this.slab.markRate(id, now);
  }

  /** Bytes held by all rings. */
  get bytes(): number {
    return this.slab.bytes;
  }

  /**
   * One window of the stream list: keys containing `filter` (case-insensitive), sorted, rows
   * `offset .. offset + limit`. The sort is cached for `cacheMs` so many pages cost one sort.
   */
  rows(order: StreamSort, desc: boolean, offset: number, limit: number, filter: string, now = Date.now(), cacheMs = 200): { total: number; rows: StreamRow[] } {
    if (this.pending.length > 0) this.file();
    let keys: StreamHistory[];
    if (this.sorted && this.sorted.order === order && this.sorted.desc === desc && now - this.sorted.at < cacheMs && this.sorted.keys.length === this.streams.size) {
      keys = this.sorted.keys;
    } else {
      keys = [];
      for (const id of this.streams.values()) keys.push(this.views[id]!);
      keys.sort(comparator(order, desc));
      this.sorted = { order, desc, at: now, keys };
    }
    if (filter) {
      const f = filter.toLowerCase();
      keys = keys.filter((h) => h.key.toLowerCase().includes(f));
    }
    const slice = keys.slice(offset, offset + limit);
    return { total: keys.length, rows: slice.map(toRow) };
  }

  /** Alerts with `seq >= from` (oldest first), and the seq to ask from next time. */
  alertsSince(from: number): { alerts: AlertEntry[]; next: number } {
    if (this.pending.length > 0) this.file();
    const alerts = this.alertRing.filter((a) => a.seq >= from);
    return { alerts, next: this.alertSeq };
  }

  private recordAlert(h: StreamHistory, timestamp: number): void {
    this.counters.alerts++;
    this.alertRing.push({ seq: this.alertSeq++, key: h.key, timestamp, score: finite(h.lastScore), value: finite(h.lastValue) });
    if (this.alertRing.length > this.maxAlerts) this.alertRing.shift();
  }

  /**
   * Second-chance (CLOCK) eviction: the Map's first key is the oldest inserted; one touched since
   * it was last looked at goes to the back with its mark cleared, the first untouched one leaves.
   * This approximates least-recently-seen without reordering the Map on every event.
   */
  private evictOldest(): void {
    for (;;) {
      const first = this.streams.entries().next();
      if (first.done) return;
      const [key, id] = first.value;
      this.streams.delete(key);
      if (this.touched[id] === 1) {
        this.touched[id] = 0;
        this.streams.set(key, id);
        continue;
      }
      this.slab.release(id);
      this.views[id] = undefined;
      this.sorted = null; // its rows must not show the ring's next key
      this.counters.evictedKeys++;
      return;
    }
  }
}

function vector(v: ArrayLike<number> | number | undefined): ArrayLike<number> | null {
  if (typeof v === 'number') return [v];
  if (v && typeof v === 'object' && typeof v.length === 'number') return v;
  return null;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function toRow(h: StreamHistory): StreamRow {
  return [h.key, finite(h.lastValue), finite(h.lastScore), Math.round(h.rate * 10) / 10, h.lastSeen, h.alertActive ? 1 : 0, h.alerts, h.count];
}

function comparator(order: StreamSort, desc: boolean): (a: StreamHistory, b: StreamHistory) => number {
  const sign = desc ? -1 : 1;
  if (order === 'key') return (a, b) => sign * (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const pick: (h: StreamHistory) => number =
    order === 'score' ? (h) => h.lastScore : order === 'value' ? (h) => h.lastValue : order === 'rate' ? (h) => h.rate : order === 'alerts' ? (h) => h.alerts + (h.alertActive ? 1e9 : 0) : (h) => h.lastSeen;
  return (a, b) => {
    const x = pick(a);
    const y = pick(b);
    // NaN (no score yet) always sorts last.
    if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
    if (Number.isNaN(y)) return -1;
    return sign * (x - y) || (a.key < b.key ? -1 : 1);
  };
}
