import type { StateSnapshot } from '../../cells/stateSnapshot.js';
import { SeqstreamError } from '../../errors.js';
import type { KeyedRowStore } from './stateRows.js';

/** Why a key left the table. */
export type EvictionReason = 'lru' | 'idle' | 'deleted';

/** A key that left the table, with its last state so the caller can persist it. */
export interface Eviction<K> {
  key: K;
  reason: EvictionReason;
  /** The key's state when it left (JSON-safe; feed it back with `restore`). */
  snapshot: StateSnapshot;
  /** Source offset of the key's last stepped event, if events carried offsets. */
  offset: number | undefined;
}

/** Options of {@link KeyTable} (already validated by the operator). */
export interface KeyTableOptions<K> {
  maxKeys: number;
  idleTtlMs: number;
  clock: () => number;
  /** Cell name written into eviction snapshots. */
  cell: string;
  onEvict?: (eviction: Eviction<K>) => void;
}

const NO_OFFSET = Number.NaN;

/**
 * Keys to rows of a {@link KeyedRowStore}: a `Map` from key to row, rows reused through a free list,
 * an LRU list threaded through per-row Int32Arrays, idle times, and per row the number of queued
 * events and the resets and deletes that wait for them. A key with queued events is never
 * evicted; `reset` and `delete` on it take effect once its last queued event has stepped
 * ({@link stepped}), so a row never changes hands while it still has work.
 *
 * @example
 * ```ts
 * const table = new KeyTable<string>(rows, { maxKeys: 10_000, idleTtlMs: Infinity, clock: Date.now, cell: 'lstm' });
 * const row = table.insert('sensor-1');
 * table.touch(row);
 * ```
 */
export class KeyTable<K> {
  private readonly index = new Map<K, number>();
  private rowKey: (K | undefined)[] = [];
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private lastSeen = new Float64Array(0);
  private lastOffset = new Float64Array(0);
  private pendCount = new Int32Array(0);
  private resetNext = new Uint8Array(0);
  private deleteNext = new Uint8Array(0);
  private freeRows = new Int32Array(0);
  private freeTop = 0;
  private used = 0;
  private lruHead = -1;
  private lruTail = -1;
  /** Rows deleted while they had queued events whose last event has now stepped. */
  private readonly deletable: number[] = [];
  /**
   * Changes whenever a key gains or loses a row (insert, evict, delete, release): a key-to-row
   * resolution made at one generation holds while it is unchanged (the block fast path caches on it).
   */
  generation = 0;
  /** Changes whenever the LRU order changes (a row linked or unlinked): the same touches again on an unchanged order change nothing. */
  lruStamp = 0;
  /** Keys that left, by reason. */
  readonly evicted: Record<EvictionReason, number> = { lru: 0, idle: 0, deleted: 0 };

  constructor(
    readonly rows: KeyedRowStore,
    private readonly o: KeyTableOptions<K>,
  ) {
    this.grow(Math.min(o.maxKeys, 1024));
  }

  /** Keys held (a key deleted with queued events no longer counts). */
  get size(): number {
    return this.index.size;
  }

  /** Bytes of the per-row bookkeeping arrays (prev, next, pendCount, free: 4 B; lastSeen, lastOffset: 8 B; flags: 1 B each). */
  get bookkeepingBytesPerRow(): number {
    return 4 * 4 + 2 * 8 + 2;
  }

  /** Whether `key` has a row. */
  has(key: K): boolean {
    return this.index.has(key);
  }

  /** The row of `key`, or undefined. */
  rowOf(key: K): number | undefined {
    return this.index.get(key);
  }

  /** The key a row steps for (also while a deleted key's queued events finish). */
  keyOf(row: number): K {
    return this.rowKey[row] as K;
  }

  /** Rows of the keys held, least recently used first. */
  lruRows(): number[] {
    const out: number[] = [];
    for (let r = this.lruHead; r !== -1; r = this.next[r]) out.push(r);
    return out;
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return this.lruRows().map((r) => this.rowKey[r] as K);
  }

  /**
   * A zeroed row for a new key, most recently used. Past `maxKeys` the least recently used key
   * without queued events leaves first (`'lru'`); `SEQ_KEYED_FULL` when every key has some.
   */
  insert(key: K): number {
    if (this.used >= this.o.maxKeys) {
      let victim = this.lruHead;
      while (victim !== -1 && this.pendCount[victim] > 0) victim = this.next[victim];
      if (victim === -1) {
        throw new SeqstreamError('SEQ_KEYED_FULL', `All ${this.o.maxKeys} keys have queued events; raise maxKeys`, { maxKeys: this.o.maxKeys });
      }
      this.evict(victim, 'lru');
    }
    const capacity = this.rows.capacity;
    if (this.freeTop === 0) this.grow(Math.min(this.o.maxKeys, Math.max(capacity + 1, Math.ceil(capacity * 1.5))));
    const row = this.freeRows[--this.freeTop];
    this.generation++;
    this.index.set(key, row);
    this.rowKey[row] = key;
    this.used++;
    this.pendCount[row] = 0;
    this.resetNext[row] = 0;
    this.deleteNext[row] = 0;
    this.lastOffset[row] = NO_OFFSET;
    this.prev[row] = this.next[row] = -1;
    this.linkTail(row);
    this.rows.zero(row);
    return row;
  }

  /** Marks a row used now (most recently used, idle clock restarted). */
  touch(row: number): void {
    this.lastSeen[row] = this.o.idleTtlMs === Infinity ? 0 : this.o.clock();
    if (row === this.lruTail) return;
    this.unlink(row);
    this.linkTail(row);
  }

  /** Counts one more queued event for `row`; true when a waiting reset applies to it (it starts from zeros). */
  queued(row: number): boolean {
    this.pendCount[row]++;
    if (this.resetNext[row] === 0) return false;
    this.resetNext[row] = 0;
    return true;
  }

  /** Records the offset (NaN: none) of a row stepped with no queued-event bookkeeping (the block fast path's repeat). */
  steppedOffset(row: number, offset: number): void {
    if (offset === offset) this.lastOffset[row] = offset;
  }

  /** One queued event of `row` has stepped (its offset, NaN if none): applies the reset or delete that waited for the last one. */
  stepped(row: number, offset: number): void {
    if (offset === offset) this.lastOffset[row] = offset;
    if (--this.pendCount[row] !== 0) return;
    if (this.resetNext[row] === 1) {
      this.resetNext[row] = 0;
      this.rows.zero(row);
    }
    if (this.deleteNext[row] === 1) this.deletable.push(row);
  }

  /** Zeroes a key's state now, or right after its queued events have stepped. */
  reset(key: K): void {
    const row = this.index.get(key);
    if (row === undefined) return;
    if (this.pendCount[row] > 0) this.resetNext[row] = 1;
    else this.rows.zero(row);
  }

  /**
   * Removes a key (reported as `'deleted'`). One with queued events leaves the key set now (a new
   * event for it starts a new row) but keeps its row until they have stepped; {@link releaseDeleted}
   * then frees it. Returns whether the key was held.
   */
  delete(key: K): boolean {
    const row = this.index.get(key);
    if (row === undefined) return false;
    if (this.pendCount[row] === 0) {
      this.evict(row, 'deleted');
      return true;
    }
    this.generation++;
    this.index.delete(key);
    this.unlink(row);
    this.deleteNext[row] = 1;
    return true;
  }

  /** Frees the rows of deleted keys whose queued events have all stepped, reporting each. */
  releaseDeleted(): void {
    while (this.deletable.length > 0) this.free(this.deletable.shift() as number, 'deleted');
  }

  /** Evicts keys idle longer than `idleTtlMs` (oldest first; a key with queued events stops the sweep). */
  evictIdle(): void {
    const ttl = this.o.idleTtlMs;
    if (ttl === Infinity || this.lruHead === -1) return;
    const limit = this.o.clock() - ttl;
    while (this.lruHead !== -1 && this.lastSeen[this.lruHead] <= limit && this.pendCount[this.lruHead] === 0) {
      this.evict(this.lruHead, 'idle');
    }
  }

  /** Drops every key and buffer (teardown). */
  release(): void {
    this.generation++;
    this.index.clear();
    this.rowKey = [];
    this.deletable.length = 0;
    this.used = 0;
    this.lruHead = this.lruTail = -1;
    this.rows.release();
  }

  private evict(row: number, reason: EvictionReason): void {
    this.generation++;
    this.index.delete(this.rowKey[row] as K);
    this.unlink(row);
    this.free(row, reason);
  }

  /** Returns a row (already out of the index and the LRU list) to the free list and reports its key. */
  private free(row: number, reason: EvictionReason): void {
    const key = this.rowKey[row] as K;
    const snapshot = this.o.onEvict ? this.rows.snapshot(row, this.o.cell) : undefined;
    const off = this.lastOffset[row];
    this.rowKey[row] = undefined;
    this.deleteNext[row] = 0;
    this.freeRows[this.freeTop++] = row;
    this.used--;
    this.evicted[reason]++;
    if (this.o.onEvict) this.o.onEvict({ key, reason, snapshot: snapshot as StateSnapshot, offset: off === off ? off : undefined });
  }

  private linkTail(row: number): void {
    this.lruStamp++;
    this.prev[row] = this.lruTail;
    this.next[row] = -1;
    if (this.lruTail !== -1) this.next[this.lruTail] = row;
    else this.lruHead = row;
    this.lruTail = row;
  }

  private unlink(row: number): void {
    this.lruStamp++;
    const p = this.prev[row];
    const n = this.next[row];
    if (p !== -1) this.next[p] = n;
    else if (this.lruHead === row) this.lruHead = n;
    if (n !== -1) this.prev[n] = p;
    else if (this.lruTail === row) this.lruTail = p;
    this.prev[row] = this.next[row] = -1;
  }

  private grow(capacity: number): void {
    const old = this.rows.capacity;
    if (capacity <= old) return;
    this.rows.grow(capacity);
    const widen = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a as never);
      return b;
    };
    const i32 = (n: number) => new Int32Array(n);
    this.prev = widen(this.prev, i32);
    this.next = widen(this.next, i32);
    this.pendCount = widen(this.pendCount, i32);
    this.lastSeen = widen(this.lastSeen, (n) => new Float64Array(n));
    this.lastOffset = widen(this.lastOffset, (n) => new Float64Array(n));
    this.resetNext = widen(this.resetNext, (n) => new Uint8Array(n));
    this.deleteNext = widen(this.deleteNext, (n) => new Uint8Array(n));
    // Free list: new rows pushed so that the lowest row is handed out first.
    const free = new Int32Array(capacity);
    free.set(this.freeRows.subarray(0, this.freeTop));
    let top = this.freeTop;
    for (let r = capacity - 1; r >= old; r--) free[top++] = r;
    this.freeRows = free;
    this.freeTop = top;
    this.rowKey.length = capacity;
  }
}
