import type { KV } from '@nats-io/kv';
import type { LeaseEntry, LeaseTable } from '../clusterEngine.js';
import { fencedError } from '../partitionOwnership.js';

/** Whether a JetStream error is a lost compare-and-set (`wrong last sequence`, API code 10071). */
export function isWrongLastSequence(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return err?.code === 10071 || (typeof err?.message === 'string' && err.message.includes('wrong last sequence'));
}

/**
 * A {@link LeaseTable} on a JetStream KV bucket: revisions are the bucket's sequences, updates
 * use the expected-revision header, and a watcher keeps the local view (with the local time
 * each revision was first seen, from which leases expire).
 *
 * @example
 * ```ts
 * const table = await KvLeaseTable.open(await kvm.create('sensors-group', { history: 1 }));
 * table.entries().get('lease.3');
 * ```
 */
export class KvLeaseTable implements LeaseTable {
  private readonly view = new Map<string, LeaseEntry>();
  private stopWatch: (() => void) | undefined;

  private constructor(private readonly kv: KV) {}

  /** Opens the table and starts its watcher (entries it has not delivered yet are safe: every write is a compare-and-set). */
  static async open(kv: KV): Promise<KvLeaseTable> {
    const t = new KvLeaseTable(kv);
    const watch = await kv.watch();
    t.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        if (e.operation === 'PUT') {
          const old = t.view.get(e.key);
          if (!old || old.revision !== e.revision) t.view.set(e.key, { key: e.key, value: e.string(), revision: e.revision, seenAt: performance.now() });
        } else {
          t.view.delete(e.key);
        }
      }
    })().catch(() => undefined);
    return t;
  }

  entries(): Map<string, LeaseEntry> {
    return this.view;
  }

  async create(key: string, value: string): Promise<number> {
    try {
      return await this.kv.create(key, value);
    } catch (e) {
      if (isWrongLastSequence(e) || /exists/i.test((e as Error).message)) throw fencedError(`create ${key}`);
      throw e;
    }
  }

  async update(key: string, value: string, revision: number): Promise<number> {
    try {
      return await this.kv.update(key, value, revision);
    } catch (e) {
      if (isWrongLastSequence(e)) throw fencedError(`update ${key}`);
      throw e;
    }
  }

  put(key: string, value: string): Promise<number> {
    return this.kv.put(key, value);
  }

  async remove(key: string, revision: number): Promise<void> {
    await this.kv.delete(key, { previousSeq: revision });
  }

  /** Stops the watcher. */
  close(): void {
    this.stopWatch?.();
  }
}
