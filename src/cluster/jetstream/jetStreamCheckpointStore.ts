import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { InvalidOptionError, SeqstreamError } from '../../errors.js';
import { decodePartitionCheckpoint, encodeCheckpoint } from '../checkpointCodec.js';
import type { ClaimedCheckpoint, PartitionCheckpoint, PartitionCheckpointStore } from '../clusterEngine.js';
import { fencedError } from '../partitionOwnership.js';
import { isWrongLastSequence } from './kvLeaseTable.js';
import { withTimeout } from '../internal/withTimeout.js';
import { numberOption } from '../../options.js';

interface Pointer {
  owner: string;
  /** Object holding the checkpoint body, or null before the first checkpoint. */
  object: string | null;
  seq: number;
}

/**
 * Partition checkpoints in JetStream: the body (every key's state, any size) in an object
 * store, and a pointer `p<p>` in a KV bucket that names the current body. The pointer is the
 * commit point and the fence: it is written with the expected revision, so a commit by a worker
 * whose claim was superseded fails (`SEQ_CLUSTER_FENCED`) and a body whose write was cut short
 * is never pointed to (it is deleted at the next claim).
 *
 * @example
 * ```ts
 * const store = new JetStreamCheckpointStore(pointersKv, objectStore);
 * const { checkpoint, fence } = await store.claim(0, 'w1');
 * ```
 */
export class JetStreamCheckpointStore implements PartitionCheckpointStore {
  private readonly mine = new Map<number, Pointer>();

  private readonly readTimeoutMs: number;
  private readonly orphanChunkAgeMs: number;

  /**
   * @param options.readTimeoutMs longest wait for a checkpoint body or the body listing (object
   *   store reads wait for chunks without a timeout of their own). Default 10000.
   * @param options.jsm with `bucket`, lets a claim also purge chunks no object names (a put cut
   *   short before its metadata was written leaves them, invisible to the listing).
   * @param options.orphanChunkAgeMs such chunks are purged once their last one is this old, far
   *   beyond any put in progress (another worker's, of another partition). Default 600000 (10 min).
   * @throws `SEQ_INVALID_OPTION` when `options` is not an object: the old positional call
   *   `new JetStreamCheckpointStore(kv, obj, readTimeoutMs)` must become `{ readTimeoutMs }`
   *   (taking the number silently would drop the timeout).
   */
  constructor(
    private readonly pointers: KV,
    private readonly bodies: ObjectStore,
    private readonly options: { readTimeoutMs?: number; jsm?: JetStreamManager; bucket?: string; orphanChunkAgeMs?: number } = {},
  ) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('JetStreamCheckpointStore options', 'an object { readTimeoutMs?, jsm?, bucket?, orphanChunkAgeMs? } (the positional readTimeoutMs argument is gone)', options);
    if (typeof pointers?.update !== 'function' || typeof bodies?.putBlob !== 'function') throw new InvalidOptionError('JetStreamCheckpointStore(pointers, bodies)', 'a KV bucket and an object store', typeof pointers?.update !== 'function' ? pointers : bodies);
    this.readTimeoutMs = numberOption('readTimeoutMs', options.readTimeoutMs, 10_000, { min: 1 });
    this.orphanChunkAgeMs = numberOption('orphanChunkAgeMs', options.orphanChunkAgeMs, 600_000, { min: 0 });
  }

  async claim(partition: number, owner: string): Promise<ClaimedCheckpoint> {
    const key = `p${partition}`;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * attempt)));
      if (attempt > 50) throw new SeqstreamError('SEQ_CLUSTER_CLAIM', `could not claim the checkpoint of partition ${partition}`, { partition });
      const entry = await this.pointers.get(key);
      if (!entry || entry.operation !== 'PUT') {
        const fresh: Pointer = { owner, object: null, seq: 0 };
        try {
          const fence = await this.pointers.create(key, JSON.stringify(fresh));
          this.mine.set(partition, fresh);
          return { checkpoint: undefined, fence };
        } catch {
          continue; // created by someone else meanwhile
        }
      }
      const ptr = entry.json<Pointer>();
      // Fence first: once the pointer carries our revision no earlier owner can commit, so the body
      // it names cannot be replaced (and deleted) while we read it.
      const next: Pointer = { ...ptr, owner };
      let fence: number;
      try {
        fence = await this.pointers.update(key, JSON.stringify(next), entry.revision);
      } catch (e) {
        if (isWrongLastSequence(e)) continue;
        throw e;
      }
      let checkpoint: PartitionCheckpoint | undefined;
      if (ptr.object) {
        const bytes = await withTimeout(this.bodies.getBlob(ptr.object), this.readTimeoutMs, `reading checkpoint body '${ptr.object}'`);
        if (!bytes) throw new SeqstreamError('SEQ_CLUSTER_CHECKPOINT', `checkpoint body '${ptr.object}' of partition ${partition} is missing`, { partition });
        checkpoint = decodePartitionCheckpoint(bytes);
      }
      this.mine.set(partition, next);
      // Cleanup is best effort and must not hold up the takeover (on a degraded cluster the listings
      // can take seconds): the bodies are removed now, the chunks in the background.
      const orphansRemoved = await withTimeout(this.removeOrphans(partition, ptr.object), this.readTimeoutMs, 'listing checkpoint bodies').catch(() => 0);
      void withTimeout(this.removeOrphanChunks(), this.readTimeoutMs, 'listing checkpoint chunks').catch(() => 0);
      return { checkpoint, fence, orphansRemoved };
    }
  }

  async commit(partition: number, fence: number, checkpoint: PartitionCheckpoint, owned?: () => boolean): Promise<number> {
    const prev = this.mine.get(partition);
    const owner = prev?.owner ?? 'unknown';
    const seq = checkpoint.offset ?? 0;
    const name = `p${partition}-${seq}-${owner}-${Math.random().toString(36).slice(2, 8)}`;
    await this.bodies.putBlob({ name }, encodeCheckpoint(checkpoint));
    const next: Pointer = { owner, object: name, seq };
    if (owned && !owned()) {
      void this.bodies.delete(name).catch(() => undefined);
      throw fencedError(`checkpoint of partition ${partition} (lease expired while its body was written)`);
    }
    let revision: number;
    try {
      revision = await this.pointers.update(`p${partition}`, JSON.stringify(next), fence);
    } catch (e) {
      void this.bodies.delete(name).catch(() => undefined);
      if (isWrongLastSequence(e)) throw fencedError(`checkpoint of partition ${partition}`);
      throw e;
    }
    this.mine.set(partition, next);
    if (prev?.object) void this.bodies.delete(prev.object).catch(() => undefined);
    return revision;
  }

  /**
   * Purges chunk subjects (`$O.<bucket>.C.<nuid>`) that no object names and whose last chunk is
   * older than `orphanChunkAgeMs`: a SIGKILL between a body's chunks and its metadata. Resolves
   * to how many were purged; best effort, at most 100 per call.
   */
  async removeOrphanChunks(): Promise<number> {
    const { jsm, bucket } = this.options;
    if (!jsm || !bucket) return 0;
    const stream = `OBJ_${bucket}`;
    const prefix = `$O.${bucket}.C.`;
    let purged = 0;
    try {
      const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}>` });
      const subjects = Object.keys(info.state.subjects ?? {});
      if (subjects.length === 0) return 0;
      const named = new Set((await this.bodies.list()).map((o) => o.nuid));
      for (const subject of subjects) {
        if (purged >= 100) break;
        if (named.has(subject.slice(prefix.length))) continue;
        const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
        if (!last || Date.now() - last.time.getTime() < this.orphanChunkAgeMs) continue;
        await jsm.streams.purge(stream, { filter: subject });
        purged++;
      }
    } catch {
      // best effort: the next claim tries again
    }
    return purged;
  }

  /** Deletes bodies of `partition` that no pointer names (commits cut short by a crash). */
  private async removeOrphans(partition: number, current: string | null): Promise<number> {
    let removed = 0;
    try {
      const prefix = `p${partition}-`;
      for (const info of await this.bodies.list()) {
        if (info.name.startsWith(prefix) && info.name !== current && !info.deleted) {
          await this.bodies.delete(info.name);
          removed++;
        }
      }
    } catch {
      // best effort: the next claim tries again
    }
    return removed;
  }
}
