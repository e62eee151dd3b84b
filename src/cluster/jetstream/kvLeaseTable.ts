import type { KV } from '@nats-io/kv';
import type { LeaseEntry, LeaseTable } from '../clusterEngine.js';
import { fencedError } from '../partitionOwnership.js';

/** Whether a JetStream error is a lost compare-and-set (`wrong last sequence`, API code 10071). */
export function isWrongLastSequence(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return err?.code === 10071 || (typeof err?.message === 'string' && err.message.includes('wrong last sequence'));
}

/** Options of {@link KvLeaseTable.open}. */
export interface KvLeaseTableOptions {
  /**
   * The watcher is restarted when a write of this table was acknowledged this many ms ago and the
   * watcher has still not delivered it (its consumer died with a server, and the client would
   * notice only after two missed heartbeats: 10 s, then 60 s). Default 2000.
   */
  staleMs?: number;
}

/**
 * A {@link LeaseTable} on a JetStream KV bucket: revisions are the bucket's sequences, updates
 * use the expected-revision header, and a watcher keeps the local view (with the local time
 * each revision was first seen, from which leases expire).
 *
 * The view must not freeze: a worker judging leases from a stale view never sees a partition
 * given back, so the partition waits for nobody. So the watcher checks itself against this
 * table's own writes (a heartbeat every tick): a write acknowledged `staleMs` ago and not yet
 * delivered, or a watch that ended, restarts it (keys whose revision did not change keep their
 * `seenAt`). And `refresh(key)` reads one key from the stream leader after a lost
 * compare-and-set, and takes its revision whatever the view held (a watcher on a diverged
 * replica can show revisions the leader never committed).
 *
 * @example
 * ```ts
 * const table = await KvLeaseTable.open(await kvm.create('sensors-group', { history: 1, allow_direct: false }));
 * table.entries().get('lease.3');
 * ```
 */
export class KvLeaseTable implements LeaseTable {
  private readonly view = new Map<string, LeaseEntry>();
  private stopWatch: (() => void) | undefined;
  private closed = false;
  /** Highest revision the watcher delivered. */
  private delivered = 0;
  /** The oldest own write the watcher has not delivered yet: its revision and when it was acknowledged. */
  private awaited: { revision: number; at: number } | undefined;
  private restarting = false;
  private readonly timer: ReturnType<typeof setInterval>;
  /** Watcher restarts so far (a stalled or ended watch). */
  restarts = 0;

  private constructor(
    private readonly kv: KV,
    private readonly staleMs: number,
  ) {
    this.timer = setInterval(() => this.checkWatch(), Math.max(50, staleMs / 4));
    this.timer.unref?.();
  }

  /**
   * Opens the table and starts its watcher (entries it has not delivered yet are safe: every write
   * is a compare-and-set). Open `kv` with `allow_direct: false`, so `refresh` reads the stream
   * leader rather than any replica (a direct get can answer from a replica that lags or diverged).
   */
  static async open(kv: KV, options: KvLeaseTableOptions = {}): Promise<KvLeaseTable> {
    const t = new KvLeaseTable(kv, options.staleMs ?? 2000);
    try {
      await t.watch();
    } catch (e) {
      t.close();
      throw e;
    }
    return t;
  }

  private async watch(): Promise<void> {
    const watch = await this.kv.watch();
    if (this.closed) return watch.stop();
    const stop = (): void => watch.stop();
    this.stopWatch = stop;
    void (async () => {
      for await (const e of watch) {
        this.delivered = Math.max(this.delivered, e.revision);
        if (this.awaited && e.revision >= this.awaited.revision) this.awaited = undefined;
        if (e.operation === 'PUT') {
          const old = this.view.get(e.key);
          if (!old || old.revision !== e.revision) this.view.set(e.key, { key: e.key, value: e.string(), revision: e.revision, seenAt: performance.now() });
        } else {
          this.view.delete(e.key);
        }
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        if (this.stopWatch !== stop || this.closed) return; // replaced or closed, not ended by itself
        void this.rewatch();
      });
  }

  private async rewatch(): Promise<void> {
    if (this.restarting || this.closed) return;
    this.restarting = true;
    this.restarts++;
    const old = this.stopWatch;
    this.stopWatch = undefined;
    old?.();
    this.awaited = undefined;
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.watch();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
    this.restarting = false;
  }

  private wrote(revision: number): number {
    if (revision > this.delivered && !this.awaited) this.awaited = { revision, at: performance.now() };
    return revision;
  }

  private checkWatch(): void {
    if (this.awaited && performance.now() - this.awaited.at > this.staleMs) void this.rewatch();
  }

  entries(): Map<string, LeaseEntry> {
    return this.view;
  }

  async refresh(key: string): Promise<void> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') {
      this.view.delete(key);
      return;
    }
    // The read is the stream leader's (the bucket is opened without direct gets), the same server
    // that judges the compare-and-set, so its revision replaces the view's even when lower: the
    // watcher's consumer can sit on a replica that diverged and holds writes the leader never
    // committed (seen with nats-server 2.9.10 after a SIGKILL), and a view kept at such a revision
    // loses every compare-and-set forever. A changed revision counts as newly seen: it expires
    // from now, so correcting the view never shortens a live lease.
    const old = this.view.get(key);
    if (!old || old.revision !== e.revision) this.view.set(key, { key, value: e.string(), revision: e.revision, seenAt: performance.now() });
  }

  async create(key: string, value: string): Promise<number> {
    try {
      return this.wrote(await this.kv.create(key, value));
    } catch (e) {
      if (isWrongLastSequence(e) || /exists/i.test((e as Error).message)) throw fencedError(`create ${key}`);
      throw e;
    }
  }

  async update(key: string, value: string, revision: number): Promise<number> {
    try {
      return this.wrote(await this.kv.update(key, value, revision));
    } catch (e) {
      if (isWrongLastSequence(e)) throw fencedError(`update ${key}`);
      throw e;
    }
  }

  async put(key: string, value: string): Promise<number> {
    return this.wrote(await this.kv.put(key, value));
  }

  async remove(key: string, revision: number): Promise<void> {
    await this.kv.delete(key, { previousSeq: revision });
  }

  /** Stops the watcher. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    stop?.();
  }
}
