import { SeqstreamError } from '../errors.js';
import type { LeaseTable } from './clusterEngine.js';
import { withTimeout } from './internal/withTimeout.js';

/** Options of {@link PartitionOwnership}. */
export interface PartitionOwnershipOptions {
  /** This worker's id, unique in the group. */
  memberId: string;
  /** Partition count of the topology. */
  partitions: number;
  /** How long a lease (and a membership heartbeat) lives without renewal, in ms. Default 1500. */
  leaseMs?: number;
  /** How often leases are renewed and the assignment is checked, in ms. Default leaseMs / 6. */
  tickMs?: number;
  /** Called once this worker holds the lease of `partition`; resolves when the partition runs. A throw gives the lease back. */
  onAcquire: (partition: number) => Promise<void>;
  /** Called before a lease is given back on purpose (rebalance, shutdown): checkpoint and stop. */
  onRelease: (partition: number) => Promise<void>;
  /** Called when a lease was lost (taken over, or not renewed in time): stop at once, write nothing. */
  onLost: (partition: number, reason: string) => void;
  /** Status lines (acquired / lost / engine unreachable). Default none. */
  status?: (line: string) => void;
}

interface Held {
  revision: number;
  /** When the last successful renewal was sent (monotonic): the lease is ours until renewedAt + leaseMs. */
  renewedAt: number;
}

const LEASE = (p: number): string => `lease.${p}`;
const MEMBER = (id: string): string => `member.${id}`;

/**
 * Which partitions this worker owns, kept by leases in a {@link LeaseTable} (compare-and-set on
 * revisions; expiry judged by each watcher on its own monotonic clock, so clocks need not agree).
 *
 * Algorithm, every `tickMs`:
 * 1. Heartbeat `member.<id>`. Members whose entry changed within `leaseMs` are live.
 * 2. Renew each held lease with the revision last written; a mismatch means another worker
 *    took it (`onLost`). A lease whose last renewal was sent more than `leaseMs` ago is lost
 *    locally before anyone else may judge it expired, so a stalled worker stops by itself.
 * 3. Assign partition p to the live member `sorted(ids)[p mod n]`.
 * 4. Acquire assigned partitions whose lease is absent or unchanged for `leaseMs` (create, or
 *    update with the revision seen: one winner), then `onAcquire`.
 * 5. Give back held partitions assigned to another live member: `onRelease` (final checkpoint),
 *    then delete the lease, which its new owner sees at once.
 *
 * @example
 * ```ts
 * const own = new PartitionOwnership(engine.leases, { memberId: 'w1', partitions: 8, onAcquire, onRelease, onLost });
 * own.start();
 * own.isFresh(3); // whether partition 3 is ours right now
 * ```
 */
export class PartitionOwnership {
  readonly leaseMs: number;
  readonly tickMs: number;
  /** Longest `onAcquire` / `onRelease` may take before the partition is given up. max(10 s, 5 leases). */
  readonly startTimeoutMs: number;
  private readonly held = new Map<number, Held>();
  private readonly busy = new Set<number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking = false;
  private stopped = false;
  private unreachable = false;
  private beating = false;
  private readonly renewing = new Set<number>();
  /** Last reason a lease could not be taken, per partition: reported once, not every tick. */
  private readonly lastAcquireError = new Map<number, string>();

  constructor(
    private readonly table: LeaseTable,
    private readonly o: PartitionOwnershipOptions,
  ) {
    this.leaseMs = o.leaseMs ?? 1500;
    this.tickMs = o.tickMs ?? Math.max(20, Math.round(this.leaseMs / 6));
    this.startTimeoutMs = Math.max(10_000, 5 * this.leaseMs);
  }

  /** Starts ticking (the first tick runs at once). */
  start(): void {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    void this.tick();
  }

  /** Partitions held now. */
  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Whether the lease of `partition` is held and not past its local expiry. */
  isFresh(partition: number): boolean {
    const h = this.held.get(partition);
    return h !== undefined && !this.stopped && performance.now() - h.renewedAt < this.leaseMs;
  }

  /** Gives every partition back (`onRelease` each, then delete its lease) and leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(
      this.owned().map(async (p) => {
        await this.o.onRelease(p).catch(() => undefined);
        const h = this.held.get(p);
        this.held.delete(p);
        if (h) await this.table.remove(LEASE(p), h.revision).catch(() => undefined);
      }),
    );
    const me = this.table.entries().get(MEMBER(this.o.memberId));
    if (me) await this.table.remove(MEMBER(this.o.memberId), me.revision).catch(() => undefined);
  }

  /** Gives up `partition` at once without a final checkpoint (its runner failed); the lease is deleted so it can be taken again. */
  giveUp(partition: number): void {
    const h = this.held.get(partition);
    if (!h) return;
    this.held.delete(partition);
    void this.table.remove(LEASE(partition), h.revision).catch(() => undefined);
  }

  private lose(p: number, reason: string): void {
    if (!this.held.delete(p)) return;
    this.o.onLost(p, reason);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      await this.round();
    } finally {
      this.ticking = false;
    }
  }

  private async round(): Promise<void> {
    const id = this.o.memberId;
    const leaseValue = JSON.stringify({ owner: id });
    // 1. Heartbeat; 2. renew. Each request runs on its own, so one slow answer delays nothing else.
    if (!this.beating) {
      this.beating = true;
      this.table.put(MEMBER(id), JSON.stringify({ id, at: Date.now() })).then(
        () => {
          this.beating = false;
          if (this.unreachable) this.o.status?.('engine reachable again');
          this.unreachable = false;
        },
        (e: Error) => {
          this.beating = false;
          if (!this.unreachable) this.o.status?.(`engine unreachable (${e.message}); retrying every ${this.tickMs} ms`);
          this.unreachable = true;
        },
      );
    }
    for (const [p, h] of this.held) {
      if (performance.now() - h.renewedAt >= this.leaseMs) {
        this.lose(p, `lease not renewed within ${this.leaseMs} ms`);
        continue;
      }
      if (this.renewing.has(p)) continue;
      this.renewing.add(p);
      const sentAt = performance.now();
      this.table.update(LEASE(p), leaseValue, h.revision).then(
        (revision) => {
          this.renewing.delete(p);
          if (this.held.get(p) === h) this.held.set(p, { revision, renewedAt: sentAt });
        },
        (e: SeqstreamError) => {
          this.renewing.delete(p);
          if (e.code === 'SEQ_CLUSTER_FENCED' && this.held.get(p) === h) this.lose(p, 'lease taken over by another worker');
        },
      );
    }
    if (this.stopped) return;
    // 3. Assignment over live members.
    const now = performance.now();
    const entries = this.table.entries();
    const live = [id];
    for (const e of entries.values()) {
      if (!e.key.startsWith('member.') || e.value === null) continue;
      const mid = e.key.slice('member.'.length);
      if (mid !== id && now - e.seenAt < this.leaseMs) live.push(mid);
    }
    live.sort();
    const assignee = (p: number): string => live[p % live.length];
    for (let p = 0; p < this.o.partitions; p++) {
      if (this.busy.has(p)) continue;
      const mine = assignee(p) === id;
      if (mine && !this.held.has(p)) {
        const lease = entries.get(LEASE(p));
        if (lease && now - lease.seenAt < this.leaseMs) continue; // someone holds it (or is giving it back)
        void this.acquire(p, leaseValue, lease?.revision);
      } else if (!mine && this.held.has(p)) {
        void this.release(p);
      }
    }
  }

  private async acquire(p: number, value: string, seenRevision: number | undefined): Promise<void> {
    this.busy.add(p);
    try {
      const sentAt = performance.now();
      let revision: number;
      try {
        revision = seenRevision === undefined ? await this.table.create(LEASE(p), value) : await this.table.update(LEASE(p), value, seenRevision);
      } catch (e) {
        // Someone else won, or the view is stale (a lagging watcher): read the lease itself, so the
        // next tick does not repeat a compare-and-set on a revision that is long gone.
        const why = (e as Error).message;
        if (this.lastAcquireError.get(p) !== why) this.o.status?.(`partition ${p}: taking the lease failed (${why}); retrying`);
        this.lastAcquireError.set(p, why);
        await this.table.refresh(LEASE(p)).catch(() => undefined);
        return;
      }
      this.lastAcquireError.delete(p);
      if (this.stopped) return;
      this.held.set(p, { revision, renewedAt: sentAt });
      try {
        await withTimeout(this.o.onAcquire(p), this.startTimeoutMs, `starting partition ${p}`);
      } catch (e) {
        this.o.status?.(`partition ${p}: start failed (${(e as Error).message}); giving the lease back`);
        const h = this.held.get(p);
        this.held.delete(p);
        this.o.onLost(p, 'start failed');
        if (h) await this.table.remove(LEASE(p), h.revision).catch(() => undefined);
      }
    } finally {
      this.busy.delete(p);
    }
  }

  private async release(p: number): Promise<void> {
    this.busy.add(p);
    try {
      await withTimeout(this.o.onRelease(p), this.startTimeoutMs, `releasing partition ${p}`).catch(() => undefined);
      const h = this.held.get(p);
      this.held.delete(p);
      if (h) await this.table.remove(LEASE(p), h.revision).catch(() => undefined);
    } finally {
      this.busy.delete(p);
    }
  }
}

/** Thrown by a {@link LeaseTable} or checkpoint store when a compare-and-set lost: someone else wrote first. */
export function fencedError(what: string): SeqstreamError {
  return new SeqstreamError('SEQ_CLUSTER_FENCED', `${what}: another worker wrote first (lease or checkpoint taken over)`, {});
}
